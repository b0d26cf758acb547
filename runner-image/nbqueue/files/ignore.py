"""Which files of a notebook's directory stay behind: default ignores, then `.nbqueueignore`.

`.nbqueueignore` files use gitignore syntax and semantics (negation with `!`, directory-only
patterns ending in `/`, patterns anchored by a `/`, `*`, `?`, `[...]` and `**`), matched with
`pathspec`'s `GitIgnoreSpec`, the gitignore implementation black and hatch use. As in git, a
`.nbqueueignore` in a subdirectory applies to the paths under it, deeper files win over
shallower ones, later lines over earlier ones, and a file inside an excluded directory cannot
be re-included (the directory is never entered).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

IGNORE_FILE = ".nbqueueignore"

#: Directory names left out unless a `.nbqueueignore` line re-includes them (`!node_modules/`).
DEFAULT_IGNORES: dict[str, str] = {
    ".git": "version control (.git)",
    ".hg": "version control (.hg)",
    ".svn": "version control (.svn)",
    ".venv": "virtualenv (.venv)",
    "venv": "virtualenv (venv)",
    "__pycache__": "Python bytecode cache",
    "node_modules": "node_modules",
    ".ipynb_checkpoints": "Jupyter checkpoints",
    ".nbqueue": "nbqueue's own files (restored job checkpoints)",
}


@dataclass(frozen=True)
class Decision:
    excluded: bool
    reason: str | None = None


def default_reason(name: str, full_path: str, is_dir: bool) -> str | None:
    """Why a default ignore leaves this entry out, or None."""
    if not is_dir:
        return None
    if name in DEFAULT_IGNORES:
        return f"default ignore: {DEFAULT_IGNORES[name]}"
    if os.path.isfile(os.path.join(full_path, "pyvenv.cfg")):
        return "default ignore: virtualenv (contains pyvenv.cfg)"
    return None


class _IgnoreFile:
    """One `.nbqueueignore`: its patterns apply to paths under `base` ('' for the root)."""

    def __init__(self, base: str, lines: list[str], label: str):
        from pathspec import GitIgnoreSpec

        self.base = base
        self.label = label
        self.lines = lines
        self.spec = GitIgnoreSpec.from_lines(lines)

    def check(self, rel: str, is_dir: bool) -> Decision | None:
        if self.base:
            if not rel.startswith(self.base + "/"):
                return None
            rel = rel[len(self.base) + 1 :]
        result = self.spec.check_file(rel + "/" if is_dir else rel)
        if result.include is None:
            return None
        line = self.lines[result.index].strip() if result.index is not None else "?"
        if result.include:
            return Decision(True, f"{self.label}: {line}")
        return Decision(False, f"{self.label}: {line}")


class IgnoreRules:
    """The rules for one directory tree; `.nbqueueignore` files are read as the walk finds them.

    `extra` lines act like a `.nbqueueignore` at the root read before the real one (operators
    and tests use it).
    """

    def __init__(self, root: str, extra: list[str] | None = None):
        self.root = os.path.abspath(root)
        self._files: dict[str, _IgnoreFile | None] = {}
        self._extra = _IgnoreFile("", list(extra), "extra ignore") if extra else None

    def _file_for(self, directory: str) -> _IgnoreFile | None:
        if directory not in self._files:
            path = os.path.join(self.root, directory, IGNORE_FILE)
            loaded = None
            if os.path.isfile(path):
                try:
                    with open(path, encoding="utf-8", errors="replace") as handle:
                        lines = handle.read().splitlines()
                except OSError:
                    lines = []
                label = f"{directory}/{IGNORE_FILE}" if directory else IGNORE_FILE
                loaded = _IgnoreFile(directory, lines, label)
            self._files[directory] = loaded
        return self._files[directory]

    def decide(self, rel: str, is_dir: bool) -> Decision:
        """Whether `rel` (posix, relative to the root) stays behind, and the rule that said so.

        Later rules win: defaults, then extra lines, then each `.nbqueueignore` from the root
        down to the entry's own directory.
        """
        name = rel.rsplit("/", 1)[-1]
        reason = default_reason(name, os.path.join(self.root, rel), is_dir)
        decision = Decision(True, reason) if reason else Decision(False)
        files = [self._extra] if self._extra else []
        parts = rel.split("/")[:-1]
        for depth in range(len(parts) + 1):
            files.append(self._file_for("/".join(parts[:depth])))
        for ignore_file in files:
            if ignore_file is None:
                continue
            verdict = ignore_file.check(rel, is_dir)
            if verdict is not None:
                decision = verdict
        return decision if decision.excluded else Decision(False)
