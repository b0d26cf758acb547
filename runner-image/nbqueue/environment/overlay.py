"""One job's own thin virtualenv over the cached one.

The cached venv is shared by every job with the same environment, so a job must not change it:
a notebook that runs `%pip install x` installs into this throwaway venv instead (pip does not
uninstall what lies outside the environment it installs into). Creating it takes milliseconds:
no packages, only `pyvenv.cfg`, the interpreter links and a `.pth` that puts the cached venv's
site-packages, then the image's, under its own.
"""

from __future__ import annotations

import os
import tempfile
import venv
from dataclasses import dataclass, field
from pathlib import Path

OVERLAY_PTH = "_nbqueue_environment.pth"


@dataclass
class JobEnvironment:
    """The kernel's interpreter and the variables it runs with; the directory lives as long as
    this object (and is removed at the latest when the runner exits)."""

    python: str
    env: dict[str, str]
    _dir: tempfile.TemporaryDirectory = field(repr=False)

    def close(self) -> None:
        self._dir.cleanup()


def _site_packages(prefix: Path) -> Path:
    found = sorted((prefix / "lib").glob("python*/site-packages"))
    if not found:
        raise RuntimeError(f"{prefix} has no site-packages")
    return found[0]


def job_environment(cached_python: str, image_site_dirs: list[str]) -> JobEnvironment:
    """A fresh venv whose imports fall through to the cached venv at `cached_python`, then to
    the image's site directories."""
    cached = Path(cached_python).parent.parent
    holder = tempfile.TemporaryDirectory(prefix="nbqueue-job-env-")
    path = Path(holder.name)
    # The cached venv's base interpreter, as in its pyvenv.cfg: the same Python underneath.
    venv.EnvBuilder(system_site_packages=True, symlinks=True, with_pip=False).create(path)
    lines = [str(_site_packages(cached)), *image_site_dirs]
    (_site_packages(path) / OVERLAY_PTH).write_text("".join(f"{line}\n" for line in lines))
    env = {
        "VIRTUAL_ENV": str(path),
        # Its own scripts (what the job installs), then the restored ones, as `activate` would.
        "PATH": os.pathsep.join(
            filter(None, [str(path / "bin"), str(cached / "bin"), os.environ.get("PATH")])
        ),
    }
    return JobEnvironment(str(path / "bin" / "python"), env, holder)
