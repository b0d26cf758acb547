"""Restoring a captured environment from the real package index (PyPI) into fresh virtualenvs.

Small pure-Python packages keep it quick: six 1.16.0 (the dev environment, standing in for the
image, has 1.17.0) and tomli 2.0.1 (which it lacks). uv runs through a shim that logs every
invocation, so a cache hit can be shown to run no installer at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from nbqueue.environment import RestoreCancelled, RestoreFailed, RestoreSettings, restore
from nbqueue.environment.install import find_uv

from conftest import RUNNER_IMAGE

pytestmark = pytest.mark.timeout(300)

ENV = {
    "python": {"version": ".".join(map(str, sys.version_info[:3])), "platform": sys.platform},
    "packages": [
        {"name": "six", "version": "1.16.0"},
        {"name": "tomli", "version": "2.0.1"},
        {"name": "packaging", "version": __import__("packaging").__version__},
        {"name": "nbqueue", "version": "0.1.0"},
    ],
}


@pytest.fixture
def uv_shim(tmp_path) -> tuple[str, Path]:
    """A uv that appends its arguments to a log, then runs the real one."""
    real = find_uv()
    if real is None:
        pytest.fail("uv is not installed in the dev environment (requirements-dev.lock)")
    log = tmp_path / "uv-calls.log"
    shim = tmp_path / "uv"
    shim.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(0o755)
    return str(shim), log


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def run_in(python: str, code: str) -> str:
    done = subprocess.run(
        [python, "-c", code],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        check=True,
    )
    return done.stdout.strip()


def test_restores_into_a_venv_over_the_image_then_hits_the_cache(tmp_path, uv_shim):
    shim, log = uv_shim
    settings = RestoreSettings(cache_dir=str(tmp_path / "envs"), uv_path=shim)
    said: list[tuple[str, str]] = []

    cold = restore(ENV, settings, lambda level, message: said.append((level, message)))

    assert not cold.cache_hit and cold.installer == "uv"
    assert sorted(cold.installed) == ["six==1.16.0", "tomli==2.0.1"]  # packaging: the image's
    assert any(
        "installing 2 packages with uv (1 package already in the image)" in m for _, m in said
    )
    assert Path(cold.python).is_relative_to(tmp_path / "envs")
    versions = run_in(
        cold.python,
        "import six, tomli, packaging, ipykernel, sys; print(six.__version__, tomli.__name__, "
        "packaging.__version__, sys.prefix != sys.base_prefix)",
    )
    assert versions == f"1.16.0 tomli {ENV['packages'][2]['version']} True"
    # the image (this dev environment) keeps its own six
    assert __import__("six").__version__ == "1.17.0"
    installs = [c for c in calls(log) if c.startswith("pip install")]
    assert len(installs) == 1 and "six==1.16.0" in installs[0] and "--no-deps" in installs[0]

    before = len(calls(log))
    said.clear()
    warm = restore(ENV, settings, lambda level, message: said.append((level, message)))

    assert warm.cache_hit and warm.python == cold.python and warm.key == cold.key
    assert len(calls(log)) == before, "a cache hit ran uv"
    assert warm.seconds < 1.0, f"cache hit took {warm.seconds:.2f} s"
    assert any("cache hit" in m for _, m in said)
    assert warm.installed == cold.installed


def test_pip_restores_the_same_when_chosen(tmp_path):
    restored = restore(
        ENV, RestoreSettings(cache_dir=str(tmp_path), installer="pip"), lambda *_: None
    )
    assert restored.installer == "pip"
    assert run_in(restored.python, "import six; print(six.__version__)") == "1.16.0"


CONCURRENT = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from nbqueue.environment import RestoreSettings, restore
    gate = Path(sys.argv[1])
    while not gate.exists():  # both start together
        time.sleep(0.01)
    said = []
    settings = RestoreSettings(cache_dir=sys.argv[3], uv_path=sys.argv[4])
    r = restore(json.loads(sys.argv[2]), settings, lambda level, message: said.append(message))
    print(json.dumps({"python": r.python, "hit": r.cache_hit, "said": said}))
    """
)


def test_concurrent_restores_of_one_environment_build_it_once(tmp_path, uv_shim):
    shim, log = uv_shim
    gate = tmp_path / "go"
    env = dict(os.environ, PYTHONPATH=str(RUNNER_IMAGE))
    args = [str(gate), json.dumps(ENV), str(tmp_path / "envs"), shim]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    gate.touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
        results.append(json.loads(out))

    assert results[0]["python"] == results[1]["python"]
    assert sorted(r["hit"] for r in results) == [False, True]
    assert len([c for c in calls(log) if c.startswith("pip install")]) == 1
    assert len([c for c in calls(log) if c.startswith("venv")]) == 1


IMPOSSIBLE = {
    "python": ENV["python"],
    "packages": [
        {"name": "six", "version": "99.0"},
        {"name": "nbqueue-no-such-package-xyz", "version": "1.0"},
        {"name": "tomli", "version": "2.0.1"},
        {
            "name": "mylib",
            "version": "0.1",
            "editable": True,
            "url": "file:///home/ada/mylib",
        },
    ],
}


def test_what_cannot_be_installed_is_listed_with_why(tmp_path):
    settings = RestoreSettings(cache_dir=str(tmp_path))
    # A local path fails before anything is built or downloaded.
    with pytest.raises(RestoreFailed) as local:
        restore(IMPOSSIBLE, settings, lambda *_: None)
    assert [p.what for p in local.value.problems] == ["mylib 0.1"]
    assert not any(tmp_path.glob("*/bin/python"))

    without_local = dict(IMPOSSIBLE, packages=IMPOSSIBLE["packages"][:3])
    with pytest.raises(RestoreFailed) as failed:
        restore(without_local, settings, lambda *_: None)
    reasons = {p.what: p.why for p in failed.value.problems}
    assert set(reasons) == {"six 99.0", "nbqueue-no-such-package-xyz 1.0"}
    assert reasons["six 99.0"] == "version 99.0 is not on the default package index (PyPI)"
    assert reasons["nbqueue-no-such-package-xyz 1.0"].startswith(
        "not found on the default package index (PyPI)"
    )
    message = str(failed.value)
    assert message.startswith("The kernel's environment cannot be restored:\n  - ")
    # nothing half-built is left to be mistaken for a cache hit
    assert not any(tmp_path.glob("*/nbqueue-environment.json"))


def test_skip_mode_restores_the_rest_and_records_what_was_skipped(tmp_path):
    said: list[str] = []
    restored = restore(
        IMPOSSIBLE,
        RestoreSettings(cache_dir=str(tmp_path), on_unavailable="skip"),
        lambda level, message: said.append(f"{level}: {message}"),
    )
    assert restored.installed == ["tomli==2.0.1"]
    assert sorted(s["package"] for s in restored.skipped) == [
        "mylib 0.1",
        "nbqueue-no-such-package-xyz 1.0",
        "six 99.0",
    ]
    assert any(line.startswith("warning: Environment: skipped six 99.0: version") for line in said)
    assert run_in(restored.python, "import tomli; print('ok')") == "ok"

    said.clear()
    again = restore(
        IMPOSSIBLE,
        RestoreSettings(cache_dir=str(tmp_path), on_unavailable="skip"),
        lambda level, message: said.append(f"{level}: {message}"),
    )
    assert again.cache_hit and again.skipped == restored.skipped
    assert "warning: Environment: skipped mylib 0.1: an editable install" in " ".join(said)


def test_another_python_fails_at_once(tmp_path):
    other = dict(ENV, python={"version": "3.9.18"})
    started = time.monotonic()
    with pytest.raises(RestoreFailed, match=r"Python 3\.9\.18: the kernel ran Python 3\.9"):
        restore(other, RestoreSettings(cache_dir=str(tmp_path)), lambda *_: None)
    assert time.monotonic() - started < 5


def test_a_cancel_stops_the_installer_and_leaves_nothing_half_built(tmp_path):
    real = find_uv()
    slow = tmp_path / "uv"
    # `uv venv` for real; `uv pip install` never ends on its own.
    slow.write_text(f'#!/bin/sh\nif [ "$1" = pip ]; then exec sleep 300; fi\nexec "{real}" "$@"\n')
    slow.chmod(0o755)
    said: list[str] = []
    installing = threading.Event()

    def report(level: str, message: str) -> None:
        said.append(message)
        if "installing" in message:
            installing.set()

    started = time.monotonic()
    with pytest.raises(RestoreCancelled):
        restore(
            ENV,
            RestoreSettings(cache_dir=str(tmp_path / "envs"), uv_path=str(slow)),
            report,
            cancelled=installing.is_set,
        )
    assert time.monotonic() - started < 30
    assert any("installing 2 packages" in m for m in said)
    left = sorted(p.name for p in (tmp_path / "envs").iterdir())
    assert all(name.endswith(".lock") for name in left), left


def test_invalid_names_are_refused_before_any_install(tmp_path):
    odd = dict(ENV, packages=[{"name": "--index-url=http://x", "version": "1.0"}])
    with pytest.raises(RestoreFailed, match="--index-url=http://x 1.0: not a valid name"):
        restore(odd, RestoreSettings(cache_dir=str(tmp_path)), lambda *_: None)


SUBSTITUTION = textwrap.dedent(
    """
    import json, sys
    from nbqueue.environment import RestoreSettings, restore
    said = []
    r = restore(json.loads(sys.argv[1]), RestoreSettings(cache_dir=sys.argv[2]),
                lambda level, message: said.append(message))
    print(json.dumps({"restored": r.metadata(), "said": said}))
    """
)


def test_the_images_gpu_build_is_kept_and_recorded(tmp_path):
    # An "image" whose torch is a CUDA build: a site-packages directory with its metadata.
    image = tmp_path / "image" / "site-packages"
    info = image / "torch-2.3.0+cu121.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.3.0+cu121\n")
    env = dict(ENV, packages=[{"name": "torch", "version": "2.3.0+cpu"}])
    done = subprocess.run(
        [sys.executable, "-c", SUBSTITUTION, json.dumps(env), str(tmp_path / "envs")],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(RUNNER_IMAGE), str(image)])),
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["restored"]["installed"] == []
    assert result["restored"]["substitutions"] == [
        {
            "captured": "torch 2.3.0+cpu",
            "kept": "torch 2.3.0+cu121",
            "why": "the image's GPU build of the same version",
        }
    ]
    assert (
        "Environment: using torch 2.3.0+cu121 for torch 2.3.0+cpu "
        "(the image's GPU build of the same version)." in result["said"]
    )
