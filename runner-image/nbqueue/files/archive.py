"""Bundles are gzip-compressed tar files of regular files with relative paths; nothing else."""

from __future__ import annotations

import os
import shutil
import tarfile
from collections.abc import Iterable
from typing import BinaryIO


class BundleError(Exception):
    """A bundle that cannot be written or unpacked, said for a person."""


def write_bundle(root: str, paths: Iterable[str], out: BinaryIO) -> int:
    """Writes the files `paths` (posix, relative to `root`) as a tar.gz to `out`.

    Owners are left out (the job runs as whoever runs it), modification times kept. Returns
    the number of files written.
    """
    count = 0
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=6) as tar:
        for rel in paths:
            full = os.path.join(root, *rel.split("/"))
            try:
                info = tar.gettarinfo(os.path.realpath(full), arcname=rel)
            except OSError as error:
                raise BundleError(f"Could not read {rel}: {error.strerror}.") from None
            if not info.isfile():
                continue
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode &= 0o755
            with open(full, "rb") as handle:
                tar.addfile(info, handle)
            count += 1
    return count


def _safe_name(name: str) -> str | None:
    """The member name as a relative posix path, or None when it would leave the directory."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or name.startswith("/") or ".." in parts:
        return None
    return "/".join(parts)


def extract_bundle(source: str | BinaryIO, dest: str) -> list[tuple[str, int]]:
    """Unpacks a bundle into `dest`: regular files and directories only, never outside `dest`.

    Links, devices and absolute or `..` paths make the whole bundle refused (BundleError)
    before anything of it is written. Returns (path, size) of the files written.
    """
    dest = os.path.realpath(dest)
    try:
        tar = tarfile.open(  # noqa: SIM115 (closed by the `with tar` below)
            **({"name": source} if isinstance(source, str) else {"fileobj": source}), mode="r:*"
        )
    except (tarfile.TarError, OSError) as error:
        raise BundleError(f"The bundle is not a readable tar.gz file: {error}.") from None
    written: list[tuple[str, int]] = []
    with tar:
        try:
            members = tar.getmembers()
        except (tarfile.TarError, OSError, EOFError) as error:
            raise BundleError(f"The bundle is damaged: {error}.") from None
        plan = []
        for member in members:
            name = _safe_name(member.name)
            if name is None:
                raise BundleError(f"The bundle has a path outside its directory: {member.name!r}.")
            if not (member.isfile() or member.isdir()):
                raise BundleError(
                    f"The bundle has {member.name!r}, which is not a regular file or directory."
                )
            plan.append((name, member))
        for name, member in plan:
            target = os.path.join(dest, *name.split("/"))
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.islink(target):
                os.unlink(target)
            source_file = tar.extractfile(member)
            if source_file is None:
                continue
            with source_file, open(target, "wb") as handle:
                shutil.copyfileobj(source_file, handle, 1024 * 1024)
            os.chmod(target, (member.mode & 0o755) | 0o600)
            if member.mtime:
                os.utime(target, (member.mtime, member.mtime))
            written.append((name, member.size))
    return written
