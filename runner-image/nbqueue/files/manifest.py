"""What of a notebook's directory goes with a job: the files, what was left out and why, sizes."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

from .ignore import IgnoreRules

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
#: Entries an excluded directory's size is counted over before giving up (a 2 GB virtualenv
#: should not slow the dialog down).
SIZE_WALK_LIMIT = 20000


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


@dataclass
class Manifest:
    root: str
    max_bytes: int
    #: (path, size) of every file that goes, posix paths relative to root, sorted.
    files: list[tuple[str, int]] = field(default_factory=list)
    #: (path, reason, size or None) of every top-most entry left out; directories end in "/".
    left_out: list[tuple[str, str, int | None]] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)

    @property
    def over_cap(self) -> bool:
        return self.total_bytes > self.max_bytes

    def largest(self, count: int = 5) -> list[tuple[str, int]]:
        """The biggest top-level entries that go (directories summed): what to ignore first."""
        sizes: dict[str, int] = {}
        for path, size in self.files:
            head, sep, _ = path.partition("/")
            key = head + "/" if sep else head
            sizes[key] = sizes.get(key, 0) + size
        return sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:count]

    def problem(self) -> str | None:
        """A sentence saying what to do when the files are over the cap, else None."""
        if not self.over_cap:
            return None
        biggest = ", ".join(f"{path} ({human_size(size)})" for path, size in self.largest(3))
        return (
            f"The files next to the notebook add up to {human_size(self.total_bytes)}, over the "
            f"{human_size(self.max_bytes)} limit for a job's files. Add the largest to "
            f".nbqueueignore (gitignore syntax) in {self.root}: {biggest}."
        )

    def to_json(self) -> dict:
        return {
            "root": self.root,
            "files": [{"path": p, "size": s} for p, s in self.files],
            "left_out": [{"path": p, "reason": r, "size": s} for p, r, s in self.left_out],
            "total_bytes": self.total_bytes,
            "max_bytes": self.max_bytes,
            "over_cap": self.over_cap,
            "largest": [{"path": p, "size": s} for p, s in self.largest()],
            "problem": self.problem(),
        }


def _tree_size(path: str) -> int | None:
    """Bytes under a directory, or None when it has more than SIZE_WALK_LIMIT entries."""
    total = 0
    seen = 0
    for directory, dirs, files in os.walk(path):
        seen += len(dirs) + len(files)
        if seen > SIZE_WALK_LIMIT:
            return None
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_size
    return total


def _inside(root: str, target: str) -> bool:
    try:
        return os.path.commonpath([root, target]) == root
    except ValueError:
        return False


#: Why the notebook being submitted is not among its own working files.
OWN_NOTEBOOK = "the notebook itself: it goes with the job, without its outputs"


def build_manifest(
    root: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    extra_ignores: list[str] | None = None,
    notebook: str | None = None,
) -> Manifest:
    """Walks `root` like git does: excluded directories are not entered. `notebook` (a path
    relative to `root`) is the notebook being submitted: the job has it already, so its saved
    copy, outputs and all, stays behind.

    Symbolic links to files inside `root` go as the file they point to; links to directories,
    or to anything outside `root`, are left out (so a bundle never carries files from elsewhere
    and a link loop cannot make the walk endless).
    """
    root = os.path.realpath(root)
    rules = IgnoreRules(root, extra_ignores)
    manifest = Manifest(root=root, max_bytes=max_bytes)
    pending = [""]
    while pending:
        directory = pending.pop()
        try:
            entries = sorted(os.scandir(os.path.join(root, directory)), key=lambda e: e.name)
        except OSError as error:
            manifest.left_out.append((directory + "/", f"unreadable: {error.strerror}", None))
            continue
        for entry in entries:
            rel = f"{directory}/{entry.name}" if directory else entry.name
            try:
                is_link = entry.is_symlink()
                if is_link:
                    target = os.path.realpath(entry.path)
                    is_dir = os.path.isdir(target)
                else:
                    is_dir = entry.is_dir(follow_symlinks=False)
            except OSError as error:
                manifest.left_out.append((rel, f"unreadable: {error.strerror}", None))
                continue
            if rel == notebook and not is_dir:
                manifest.left_out.append((rel, OWN_NOTEBOOK, None if is_link else _size(entry)))
                continue
            decision = rules.decide(rel, is_dir)
            shown = rel + "/" if is_dir else rel
            if decision.excluded:
                size = None if is_link else _tree_size(entry.path) if is_dir else _size(entry)
                manifest.left_out.append((shown, decision.reason or "ignored", size))
                continue
            if is_link:
                if is_dir:
                    manifest.left_out.append((shown, "symbolic link to a directory", None))
                    continue
                if not _inside(root, target) or not os.path.isfile(target):
                    manifest.left_out.append(
                        (rel, "symbolic link to a file outside the notebook's directory", None)
                    )
                    continue
                manifest.files.append((rel, os.path.getsize(target)))
            elif is_dir:
                pending.append(rel)
            elif entry.is_file(follow_symlinks=False):
                manifest.files.append((rel, _size(entry) or 0))
            else:
                manifest.left_out.append((rel, "not a regular file", None))
    manifest.files.sort()
    manifest.left_out.sort()
    return manifest


def _size(entry: os.DirEntry) -> int | None:
    try:
        return entry.stat(follow_symlinks=False).st_size
    except OSError:
        return None
