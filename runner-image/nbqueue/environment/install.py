"""The installers: `uv` (fast) when present, else pip, driven as processes.

Both install with `--no-deps`: the capture is the whole set of distributions the kernel had,
so nothing needs resolving and exactly the captured versions land. When a batch fails, each
package is tried alone (`--dry-run`) to say which ones cannot be installed and why.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .plan import Problem
from .spec import Package


class InstallerError(RuntimeError):
    pass


class RestoreCancelled(Exception):
    """The job was cancelled while its environment was being restored."""


@dataclass(frozen=True)
class IndexSettings:
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()

    def uv_args(self) -> list[str]:
        args = ["--default-index", self.index_url] if self.index_url else []
        for url in self.extra_index_urls:
            args += ["--index", url]
        return args

    def pip_args(self) -> list[str]:
        args = ["--index-url", self.index_url] if self.index_url else []
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        return args

    def describe(self) -> str:
        return self.index_url or "the default package index (PyPI)"


def find_uv(explicit: str | None = None) -> str | None:
    """The uv binary: an explicit path, the `uv` Python package's, or one on PATH."""
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    try:
        from uv import find_uv_bin  # the PyPI `uv` package ships the binary

        return find_uv_bin()
    except Exception:
        pass
    beside = Path(sys.executable).with_name("uv")
    if os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("uv")


@dataclass
class Installer:
    """`kind` is "uv" or "pip"; `program` the uv binary (uv) or the image's Python (pip)."""

    kind: str
    program: str
    index: IndexSettings = field(default_factory=IndexSettings)
    timeout: float = 3600.0

    @classmethod
    def choose(cls, preference: str, index: IndexSettings, uv_path: str | None = None) -> Installer:
        """`preference`: "auto" (uv, else pip), "uv" or "pip"."""
        if preference not in ("auto", "uv", "pip"):
            raise InstallerError(f'installer must be "auto", "uv" or "pip", not {preference!r}')
        if preference in ("auto", "uv"):
            uv = find_uv(uv_path)
            if uv:
                return cls("uv", uv, index)
            if preference == "uv":
                raise InstallerError(
                    "the installer is set to uv but no uv binary was found "
                    "(pip install uv into the image, or set the installer to auto)"
                )
        return cls("pip", sys.executable, index)

    # -- commands --------------------------------------------------------------------------

    def create_venv(self, base_python: str, path: Path) -> None:
        if self.kind == "uv":
            command = [self.program, "venv", "--quiet", "--system-site-packages"]
            command += ["--python", base_python, str(path)]
        else:
            command = [base_python, "-m", "venv", "--without-pip", "--system-site-packages"]
            command += [str(path)]
        self._run(command, what="create the virtualenv", cwd=path.parent)

    def install_command(self, python: str, requirements: list[str], dry_run=False) -> list[str]:
        if self.kind == "uv":
            command = [self.program, "pip", "install", "--python", python, "--no-deps"]
            command += self.index.uv_args()
        else:
            command = [self.program, "-m", "pip", "--python", python, "install", "--no-deps"]
            command += ["--ignore-installed", "--no-input", "--disable-pip-version-check"]
            command += self.index.pip_args()
        if dry_run:
            command.append("--dry-run")
        # `--`: a requirement never reads as an option
        return [*command, "--", *requirements]

    def install(
        self,
        python: str,
        packages: list[Package],
        cancelled: Callable[[], bool] | None = None,
    ) -> subprocess.CompletedProcess:
        """Runs the installer; stops it (RestoreCancelled) as soon as `cancelled()` says so."""
        command = self.install_command(python, [p.requirement() for p in packages])
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_installer_env(),
            start_new_session=True,  # its own group: stopping it stops its children too
        )
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                out, err = process.communicate(timeout=0.2)
                return subprocess.CompletedProcess(command, process.returncode, out, err)
            except subprocess.TimeoutExpired:
                stop = cancelled is not None and cancelled()
                if stop or time.monotonic() > deadline:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.communicate()
                    if stop:
                        raise RestoreCancelled() from None
                    raise InstallerError(
                        f"{self.kind} did not finish within {self.timeout:g} s"
                    ) from None

    def diagnose(self, python: str, packages: list[Package]) -> list[Problem]:
        """Tries each package alone; the ones that cannot be installed, each with why."""

        def check(package: Package) -> Problem | None:
            command = self.install_command(python, [package.requirement()], dry_run=True)
            try:
                done = subprocess.run(
                    command, capture_output=True, text=True, timeout=600, env=_installer_env()
                )
            except subprocess.TimeoutExpired:
                return Problem(f"{package.name} {package.version}", "the installer timed out")
            if done.returncode == 0:
                return None
            return Problem(
                f"{package.name} {package.version}",
                failure_reason(package, done.stdout + done.stderr, self.index),
            )

        with ThreadPoolExecutor(max_workers=8) as pool:
            return [p for p in pool.map(check, packages) if p is not None]

    def _run(self, command: list[str], what: str, cwd: Path | None = None) -> None:
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=cwd, timeout=600, env=_installer_env()
        )
        if done.returncode != 0:
            raise InstallerError(
                f"could not {what} ({' '.join(command[:3])}…): {last_lines(done.stderr)}"
            )


def _installer_env() -> dict[str, str]:
    env = dict(os.environ)
    # The runner's PYTHONPATH (tests, development) must not leak into what pip inspects.
    env.pop("PYTHONPATH", None)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    env.setdefault("UV_NO_PROGRESS", "1")
    return env


BOX = re.compile(r"^[\s×╰─▶│├]+")


def last_lines(output: str, count: int = 3) -> str:
    lines = [BOX.sub("", line).strip() for line in output.strip().splitlines()]
    lines = [line for line in lines if line and not line.startswith("hint:")]
    text = " ".join(lines[-count:])
    return text if len(text) <= 400 else text[:397] + "..."


def failure_reason(package: Package, output: str, index: IndexSettings) -> str:
    """A sentence for a person from uv's or pip's complaint about one package."""
    text = " ".join(output.split())
    where = index.describe()
    if (
        "not found in the package registry" in text
        or "from versions: none" in text
        or "was not found in the provided package locations" in text
    ):
        return (
            f"not found on {where}; if it comes from a private index, ask the operator to add "
            "that index (restore.extra_index_urls)"
        )
    if "there is no version of" in text or "Could not find a version that satisfies" in text:
        hint = (
            " (local builds such as +cpu come from the project's own index)"
            if "+" in package.version
            else ""
        )
        return f"version {package.version} is not on {where}{hint}"
    if "platform" in text and ("wheel" in text or "compatible" in text):
        return "no build of this version for the image's platform or Python"
    if package.vcs and ("git" in text.lower()):
        return f"could not be fetched from {package.url}: {last_lines(output, 2)}"
    return last_lines(output) or "the installer failed"
