"""Environment restore time: cold and warm (cache hit), uv vs pip, in the same run.

The captured environment is a mid-size data-science kernel: pandas, scikit-learn and matplotlib
with everything they pull in (18 distributions, pinned below as a kernel would report them).
The "image" is a bare virtualenv (pip only), so every package is installed on a cold restore.

For each installer, three restores in fresh runner processes (wall time, process start
included):

- cold, empty download cache: a new node (fresh UV_CACHE_DIR / PIP_CACHE_DIR, everything
  downloaded from PyPI);
- cold venv, warm download cache: a node that has restored other environments before;
- warm: the same environment again, a cache hit (target < 1 s).

Run: .venv/bin/python runner-image/bench/restore.py   (needs PyPI; about 2-4 minutes)
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

RUNNER_IMAGE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(RUNNER_IMAGE))

from nbqueue.environment.install import find_uv  # noqa: E402

CAPTURED = {
    "python": {"version": "{}.{}.{}".format(*sys.version_info[:3]), "platform": sys.platform},
    "packages": [
        {"name": name, "version": version}
        for name, version in (
            ("cloudpickle", "3.1.2"),
            ("contourpy", "1.3.3"),
            ("cycler", "0.12.1"),
            ("fonttools", "4.68.0"),
            ("joblib", "1.6.0"),
            ("kiwisolver", "1.5.1"),
            ("matplotlib", "3.11.2"),
            ("narwhals", "2.29.0"),
            ("numpy", "2.4.6"),
            ("packaging", "26.3"),
            ("pandas", "3.1.1"),
            ("pillow", "13.0.0"),
            ("pyparsing", "3.3.3"),
            ("python-dateutil", "4.0.0"),
            ("scikit-learn", "1.9.1"),
            ("scipy", "1.17.1"),
            ("threadpoolctl", "3.8.0"),
            ("tzdata", "2026.6"),
        )
    ],
}

# Runs in the image's Python: restore and make the job's venv over it, as the runner does.
RESTORE = """
import json, sys
from nbqueue.environment import RestoreSettings, restore
from nbqueue.environment.overlay import job_environment
from nbqueue.environment.restore import image_site_dirs
settings = RestoreSettings.from_options({"cache_dir": sys.argv[2], "installer": sys.argv[3]})
r = restore(json.loads(sys.argv[1]), settings, lambda level, message: None)
job = job_environment(r.python, image_site_dirs())  # the job's own venv, as the runner makes
print(json.dumps({"hit": r.cache_hit, "seconds": r.seconds, "python": r.python,
                  "job_python": job.python, "installed": len(r.installed)}))
"""


def restore_once(image_python: str, cache_dir: Path, installer: str, downloads: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(
        PYTHONPATH=str(RUNNER_IMAGE),
        NBQUEUE_UV=find_uv() or "",
        UV_CACHE_DIR=str(downloads / "uv"),
        PIP_CACHE_DIR=str(downloads / "pip"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    started = time.perf_counter()
    done = subprocess.run(
        [image_python, "-c", RESTORE, json.dumps(CAPTURED), str(cache_dir), installer],
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{installer} restore failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def check_imports(python: str) -> None:
    subprocess.run(
        [python, "-c", "import pandas, sklearn, matplotlib"],
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )


def main() -> None:
    if find_uv() is None:
        sys.exit("uv is not installed (pip install uv, see requirements-dev.lock)")
    warm_rounds = int(os.environ.get("BENCH_WARM_ROUNDS", "5"))
    root = Path(tempfile.mkdtemp(prefix="nbqueue-bench-restore-"))
    try:
        image = root / "image"
        venv.create(image, with_pip=True)  # the image: a bare Python with pip
        image_python = str(image / "bin" / "python")
        figures: dict[str, dict[str, float]] = {}
        for installer in ("uv", "pip"):
            downloads = root / f"downloads-{installer}"
            cold = restore_once(image_python, root / f"envs-{installer}-1", installer, downloads)
            assert not cold["hit"] and cold["installed"] == len(CAPTURED["packages"]), cold
            check_imports(cold["python"])
            cached = restore_once(image_python, root / f"envs-{installer}-2", installer, downloads)
            assert not cached["hit"], cached
            warm = [
                restore_once(image_python, root / f"envs-{installer}-2", installer, downloads)
                for _ in range(warm_rounds)
            ]
            assert all(w["hit"] for w in warm), warm
            figures[installer] = {
                "cold": cold["wall"],
                "cached": cached["wall"],
                "warm": statistics.median(w["wall"] for w in warm),
                "warm_restore": statistics.median(w["seconds"] for w in warm),
            }
            print(
                f"{installer:>3}: cold (empty download cache) {cold['wall']:6.1f} s · "
                f"cold venv, cached downloads {cached['wall']:6.1f} s · "
                f"warm (cache hit, median of {warm_rounds}) {figures[installer]['warm']:.2f} s "
                f"(restore itself {figures[installer]['warm_restore'] * 1000:.0f} ms)",
                flush=True,
            )
        uv, pip = figures["uv"], figures["pip"]
        print(
            f"pip / uv: cold {pip['cold'] / uv['cold']:.1f}x · "
            f"cached downloads {pip['cached'] / uv['cached']:.1f}x"
        )
        print(
            f"warm / cold (uv): {uv['warm'] / uv['cold']:.3f} · "
            f"warm under 1 s: {'yes' if max(uv['warm'], pip['warm']) < 1 else 'NO'}"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
