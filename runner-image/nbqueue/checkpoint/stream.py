"""A checkpoint as the bytes the runner streams to the sidecar: a file as it is, a folder as an
uncompressed tar written on the fly. The length is known before the first byte goes (the
sidecar refuses an oversized checkpoint from its Content-Length), and nothing is held in memory
but one chunk."""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

CHUNK = 1024 * 1024
BLOCK = tarfile.BLOCKSIZE


class CheckpointChanged(Exception):
    """A file changed size while it was being sent."""


@dataclass
class Body:
    kind: str  # file | folder
    name: str
    length: int
    files: int
    chunks: Callable[[], Iterator[bytes]]  # a fresh iterator for each attempt


def _file_chunks(path: str, size: int) -> Iterator[bytes]:
    sent = 0
    with open(path, "rb") as handle:
        while sent < size:
            chunk = handle.read(min(CHUNK, size - sent))
            if not chunk:
                break
            sent += len(chunk)
            yield chunk
    if sent != size:
        raise CheckpointChanged(f"{path} changed while it was being saved ({size} -> {sent} bytes)")


def _entries(root: str) -> list[tuple[str, str, tarfile.TarInfo]]:
    """(full path, arcname, header) of the folder's directories and regular files; links and
    other special files are left out (a checkpoint holds data)."""
    entries = []
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        rel = os.path.relpath(directory, root)
        rel = "" if rel == "." else rel.replace(os.sep, "/")
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(directory, d))]
        if rel:
            info = tarfile.TarInfo(rel)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = int(os.stat(directory).st_mtime)
            entries.append((directory, rel, info))
        for name in sorted(files):
            full = os.path.join(directory, name)
            st = os.lstat(full)
            if not os.path.isfile(full) or os.path.islink(full):
                continue
            info = tarfile.TarInfo(f"{rel}/{name}" if rel else name)
            info.size = st.st_size
            info.mode = st.st_mode & 0o755
            info.mtime = int(st.st_mtime)
            entries.append((full, info.name, info))
    return entries


def _header(info: tarfile.TarInfo) -> bytes:
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def body_for(path: str) -> Body:
    """The body of `path` (a file or a folder). OSError when it cannot be read."""
    name = os.path.basename(os.path.normpath(path))
    if os.path.isfile(path):
        size = os.path.getsize(path)
        return Body("file", name, size, 1, lambda: _file_chunks(path, size))
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{path} is neither a file nor a folder")
    entries = _entries(path)
    length = 2 * BLOCK  # the end of the archive
    for _, _, info in entries:
        length += len(_header(info))
        if info.isfile():
            length += -(-info.size // BLOCK) * BLOCK

    def chunks() -> Iterator[bytes]:
        for full, _, info in entries:
            yield _header(info)
            if info.isfile():
                yield from _file_chunks(full, info.size)
                pad = -info.size % BLOCK
                if pad:
                    yield b"\0" * pad
        yield b"\0" * (2 * BLOCK)

    files = sum(1 for _, _, info in entries if info.isfile())
    return Body("folder", name, length, files, chunks)
