"""Restore a captured environment as a virtualenv on top of the image's Python, cached by hash.

The venv is created with `--system-site-packages` and a `.pth` file that puts the runner's own
site directories (the image's packages: ipykernel, nbqueue, CUDA builds) under the venv's, so
only what the image lacks, or has at another version, is installed. Each job's kernel then runs
in a thin venv of its own over this one (overlay.py).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .cache import EnvironmentCache, LockCancelled
from .gpu import Substitution
from .install import IndexSettings, Installer, RestoreCancelled, last_lines
from .plan import Problem, plan_restore
from .spec import CapturedEnvironment, canonical_name, environment_hash, parse_environment

Report = Callable[[str, str], None]  # (level, message)

ON_UNAVAILABLE = ("fail", "skip")
BASE_PTH = "_nbqueue_image.pth"


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nbqueue", "environments")


@dataclass(frozen=True)
class RestoreSettings:
    cache_dir: str = field(default_factory=default_cache_dir)
    installer: str = "auto"  # auto | uv | pip
    on_unavailable: str = "fail"  # fail | skip
    index: IndexSettings = field(default_factory=IndexSettings)
    #: how long to wait for another job building the same environment
    lock_timeout: float = 3600.0
    #: explicit uv binary (NBQUEUE_UV); else the uv package's or the one on PATH
    uv_path: str | None = None
    #: canonical names never restored (the image's, if any, is used)
    exclude: frozenset[str] = frozenset()

    @classmethod
    def from_options(cls, options: dict | None, environ=os.environ) -> RestoreSettings:
        """From the job payload's `environment.restore` (the sidecar's `restore` configuration),
        with NBQUEUE_ENV_* variables where the payload says nothing."""
        options = options or {}
        on_unavailable = options.get("on_unavailable") or "fail"
        if on_unavailable not in ON_UNAVAILABLE:
            raise ValueError(f'on_unavailable must be "fail" or "skip", not {on_unavailable!r}')
        extra = options.get("extra_index_urls") or ()
        return cls(
            cache_dir=options.get("cache_dir")
            or environ.get("NBQUEUE_ENV_CACHE_DIR")
            or default_cache_dir(),
            installer=options.get("installer") or environ.get("NBQUEUE_ENV_INSTALLER") or "auto",
            on_unavailable=on_unavailable,
            index=IndexSettings(options.get("index_url") or None, tuple(extra)),
            lock_timeout=float(options.get("lock_timeout_seconds") or 3600),
            uv_path=environ.get("NBQUEUE_UV") or None,
            exclude=frozenset(canonical_name(n) for n in options.get("exclude") or ()),
        )


class RestoreFailed(RuntimeError):
    """What cannot be restored, each with why; the job fails before it executes."""

    def __init__(self, problems: list[Problem], skippable: bool = True):
        self.problems = problems
        lines = "\n".join(f"  - {p.line()}" for p in problems)
        hint = (
            "\nFix these in the kernel's environment, or ask the operator to set "
            "restore.on_unavailable: skip to run without them."
            if skippable
            else ""
        )
        super().__init__(f"The kernel's environment cannot be restored:\n{lines}{hint}")


@dataclass
class Restored:
    python: str  # the venv's interpreter: the job's kernel runs on it
    key: str
    cache_hit: bool
    seconds: float
    installed: list[str] = field(default_factory=list)
    substitutions: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    installer: str | None = None

    def metadata(self) -> dict:
        """What the executed notebook records (`metadata.nbqueue.environment`)."""
        return {
            "hash": self.key,
            "python": self.python,
            "cache_hit": self.cache_hit,
            "seconds": round(self.seconds, 3),
            "installed": self.installed,
            "substitutions": self.substitutions,
            "skipped": self.skipped,
            "installer": self.installer,
        }


# -- the image ---------------------------------------------------------------------------------


def image_site_dirs() -> list[str]:
    """The site directories the runner imports from, in order: the image's packages."""
    return [
        p
        for p in sys.path
        if os.path.basename(p) in ("site-packages", "dist-packages") and os.path.isdir(p)
    ]


def image_packages(site_dirs: list[str]) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for dist in importlib.metadata.distributions(path=site_dirs):
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonical_name(name), (name, dist.version))
    return found


def base_fingerprint(
    site_dirs: list[str], packages: dict[str, tuple[str, str]], settings: RestoreSettings
) -> dict:
    return {
        "python": sys.version,
        "executable": os.path.realpath(sys.executable),
        "site": site_dirs,
        "packages": sorted(f"{key}=={v}" for key, (_, v) in packages.items()),
        "on_unavailable": settings.on_unavailable,
        "index": [settings.index.index_url, list(settings.index.extra_index_urls)],
        "exclude": sorted(settings.exclude),
    }


def venv_python(path: Path) -> Path:
    return path / "bin" / "python"


def _venv_site_packages(path: Path) -> Path:
    found = sorted((path / "lib").glob("python*/site-packages"))
    if not found:
        raise RuntimeError(f"the new virtualenv {path} has no site-packages")
    return found[0]


# -- restore -----------------------------------------------------------------------------------


def restore(
    captured: dict | CapturedEnvironment,
    settings: RestoreSettings,
    report: Report,
    cancelled: Callable[[], bool] | None = None,
) -> Restored:
    """The venv for `captured`, from the cache or built now; raises RestoreFailed, or
    RestoreCancelled once `cancelled()` is true while it waits or installs."""
    started = time.monotonic()
    env = captured if isinstance(captured, CapturedEnvironment) else parse_environment(captured)
    site_dirs = image_site_dirs()
    base = image_packages(site_dirs)
    key = environment_hash(env, base_fingerprint(site_dirs, base, settings), settings.exclude)
    cache = EnvironmentCache(settings.cache_dir)

    hit = _from_cache(cache, key, started, report)
    if hit is not None:
        return hit
    if not _writable(cache.root):
        # A cache mounted read-only (Kubernetes: only the init container writes it) without
        # this environment: its preparation failed. Build it for this job alone, so the job's
        # owner sees why it fails (or it runs, if the failure was passing).
        report(
            "warning",
            f"Restoring environment: the shared cache {cache.root} is read-only here and has "
            "no copy of it: building it for this job only…",
        )
        cache = EnvironmentCache(tempfile.mkdtemp(prefix="nbqueue-env-"))

    plan = plan_restore(env, base, platform.python_version(), settings.exclude)
    skip = settings.on_unavailable == "skip"
    if plan.problems and not skip:
        raise RestoreFailed(plan.problems)

    def waiting() -> None:
        report("info", "Restoring environment: waiting for another job building the same one…")

    try:
        with cache.lock(key, settings.lock_timeout, on_wait=waiting, cancelled=cancelled):
            hit = _from_cache(cache, key, started, report)  # built while we waited
            if hit is not None:
                return hit
            restored, skipped = _build_entry(
                cache, key, plan, settings, site_dirs, started, report, cancelled
            )
    except LockCancelled:
        raise RestoreCancelled() from None
    for level, line in _notes(plan.substitutions, skipped):
        report(level, line)
    report(
        "info",
        f"Restoring environment: done in {restored.seconds:.1f} s "
        f"({_count(len(restored.installed))} installed, environment {key[:12]}).",
    )
    return restored


def _build_entry(cache, key, plan, settings, site_dirs, started, report, cancelled):
    """Builds the cache entry `key` (the lock held); the Restored and the problems skipped."""
    cache.discard_partial(key)
    installer = Installer.choose(settings.installer, settings.index, settings.uv_path)
    path = cache.path(key)
    report(
        "info",
        f"Restoring environment: installing {_count(len(plan.install))} with "
        f"{installer.kind} ({_count(len(plan.kept))} already in the image)…",
    )
    skip = settings.on_unavailable == "skip"
    try:
        skipped = _build(path, plan, installer, site_dirs, skip, report, cancelled)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    skipped = list(plan.problems) + skipped
    left_out = {s.what for s in skipped}
    restored = Restored(
        python=str(venv_python(path)),
        key=key,
        cache_hit=False,
        seconds=time.monotonic() - started,
        installed=[
            f"{p.name}=={p.version}"
            for p in plan.install
            if f"{p.name} {p.version}" not in left_out
        ],
        substitutions=[s.as_dict() for s in plan.substitutions],
        skipped=[s.as_dict() for s in skipped],
        installer=installer.kind,
    )
    cache.complete(key, restored.metadata())
    return restored, skipped


def _build(
    path: Path,
    plan,
    installer: Installer,
    site_dirs: list[str],
    skip: bool,
    report: Report,
    cancelled: Callable[[], bool] | None,
) -> list[Problem]:
    """Creates the venv and installs the plan; the packages skipped (skip mode)."""
    installer.create_venv(sys.executable, path)
    (_venv_site_packages(path) / BASE_PTH).write_text("".join(f"{d}\n" for d in site_dirs))
    python = str(venv_python(path))
    todo = list(plan.install)
    if not todo:
        return []
    done = installer.install(python, todo, cancelled)
    if done.returncode == 0:
        return []
    output = done.stdout + done.stderr
    report("warning", "Restoring environment: the install failed; checking each package…")
    problems = installer.diagnose(python, todo)
    if not problems:
        raise RestoreFailed(
            [Problem("the environment", f"{installer.kind} failed: {last_lines(output)}")],
            skippable=False,
        )
    if not skip:
        raise RestoreFailed(problems)
    bad = {p.what for p in problems}
    rest = [p for p in todo if f"{p.name} {p.version}" not in bad]
    if rest:
        again = installer.install(python, rest, cancelled)
        if again.returncode != 0:
            raise RestoreFailed(
                [
                    Problem(
                        "the environment",
                        f"{installer.kind} failed: {last_lines(again.stdout + again.stderr)}",
                    )
                ],
                skippable=False,
            )
    return problems


def _writable(root: Path) -> bool:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(root, os.W_OK)


def _from_cache(cache: EnvironmentCache, key: str, started: float, report: Report):
    manifest = cache.manifest(key)
    if manifest is None or not venv_python(cache.path(key)).exists():
        return None
    cache.touch(key)
    restored = Restored(
        python=str(venv_python(cache.path(key))),
        key=key,
        cache_hit=True,
        seconds=time.monotonic() - started,
        installed=list(manifest.get("installed") or []),
        substitutions=list(manifest.get("substitutions") or []),
        skipped=list(manifest.get("skipped") or []),
        installer=None,
    )
    report(
        "info",
        f"Restoring environment: cache hit ({key[:12]}, {_count(len(restored.installed))} on "
        f"top of the image), ready in {restored.seconds:.2f} s.",
    )
    for item in restored.substitutions:
        report("info", f"Environment: using {item['kept']} for {item['captured']} ({item['why']}).")
    for item in restored.skipped:
        report("warning", f"Environment: skipped {item['package']}: {item['why']}")
    return restored


def _notes(substitutions: list[Substitution], skipped: list[Problem]) -> list[tuple[str, str]]:
    lines = [
        ("info", f"Environment: using {s.kept} for {s.captured} ({s.why}).") for s in substitutions
    ]
    lines += [("warning", f"Environment: skipped {p.line()}") for p in skipped]
    return lines


def _count(n: int) -> str:
    return f"{n} package" if n == 1 else f"{n} packages"
