"""The files a run created or modified in its working directory, under a size cap."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .ignore import default_reason

#: (size, mtime in ns) of each file, by posix path relative to the working directory.
Snapshot = dict[str, tuple[int, int]]


def snapshot(root: str) -> Snapshot:
    """Every regular file under `root`, skipping the default ignores (caches, virtualenvs)."""
    root = os.path.realpath(root)
    seen: Snapshot = {}
    for directory, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(directory, root)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
        dirs[:] = sorted(
            d
            for d in dirs
            if not os.path.islink(os.path.join(directory, d))
            and default_reason(d, os.path.join(directory, d), True) is None
        )
        for name in files:
            full = os.path.join(directory, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if not os.path.isfile(full) or os.path.islink(full):
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            seen[rel] = (st.st_size, st.st_mtime_ns)
    return seen


@dataclass
class Collected:
    max_bytes: int
    #: (path, size) of the files that come back, sorted by path.
    files: list[tuple[str, int]] = field(default_factory=list)
    #: (path, size, reason) of changed files left out.
    left_out: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)

    def summary(self) -> str:
        from .manifest import human_size

        text = f"{len(self.files)} file(s) ({human_size(self.total_bytes)}) written by the job"
        if self.left_out:
            shown = ", ".join(f"{p} ({human_size(s)}): {r}" for p, s, r in self.left_out[:10])
            more = f" and {len(self.left_out) - 10} more" if len(self.left_out) > 10 else ""
            text += f"; left out: {shown}{more}"
        return text + "."


def collect_outputs(
    root: str, before: Snapshot, max_bytes: int, exclude: set[str] | None = None
) -> Collected:
    """Files new or changed (size or modification time) since `before`, in path order.

    A file that would take the total over `max_bytes` is left out, and smaller files after it
    still come back. `exclude` paths (the job's own notebook) never come back.
    """
    from .manifest import human_size

    result = Collected(max_bytes=max_bytes)
    total = 0
    for rel, stamp in sorted(snapshot(root).items()):
        if before.get(rel) == stamp or rel in (exclude or set()):
            continue
        size = stamp[0]
        if total + size > max_bytes:
            result.left_out.append(
                (rel, size, f"over the {human_size(max_bytes)} limit for a job's output files")
            )
            continue
        total += size
        result.files.append((rel, size))
    return result
