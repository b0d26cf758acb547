"""Restored virtualenvs, one directory per environment hash, built once under a file lock.

Layout of the cache root (a persistent volume on Kubernetes, shared by every job on a node or
cluster):

    <root>/<hash>/                      the virtualenv (built in place: its scripts name it)
    <root>/<hash>/nbqueue-environment.json  the manifest, written last: present = complete
    <root>/<hash>.lock                  flock(2) held while building

A job whose manifest exists uses the venv without taking the lock. A directory without a
manifest is a build that died; the next builder removes it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from pathlib import Path

MANIFEST = "nbqueue-environment.json"


class LockTimeout(TimeoutError):
    pass


class LockCancelled(Exception):
    pass


class EnvironmentCache:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser()

    def path(self, key: str) -> Path:
        return self.root / key

    def manifest(self, key: str) -> dict | None:
        """The manifest of a complete environment, or None."""
        try:
            manifest = json.loads((self.path(key) / MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        return manifest if isinstance(manifest, dict) else None

    def touch(self, key: str) -> None:
        """Marks use, so an operator can evict by age (find <root> -maxdepth 2 -name ... -atime)."""
        with suppress(OSError):
            os.utime(self.path(key) / MANIFEST)

    @contextmanager
    def lock(
        self,
        key: str,
        timeout: float,
        on_wait: Callable[[], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ):
        """Holds `<root>/<key>.lock` exclusively; `on_wait` is called once if another process
        holds it (another job building the same environment); stops waiting with
        LockCancelled when `cancelled()` says so."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            deadline = time.monotonic() + timeout
            waited = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not waited and on_wait is not None:
                        on_wait()
                    waited = True
                    if time.monotonic() > deadline:
                        raise LockTimeout(
                            f"another job held the lock on environment {key[:12]} for more "
                            f"than {timeout:g} s"
                        ) from None
                    if cancelled is not None and cancelled():
                        raise LockCancelled() from None
                    time.sleep(0.2)
            yield
        finally:
            os.close(fd)  # releases the lock

    def discard_partial(self, key: str) -> None:
        path = self.path(key)
        if path.exists() and self.manifest(key) is None:
            shutil.rmtree(path, ignore_errors=True)

    def complete(self, key: str, manifest: dict) -> None:
        path = self.path(key) / MANIFEST
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(tmp, path)
