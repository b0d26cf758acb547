"""A real runner in `restore` mode: it rebuilds the captured environment (real PyPI), runs the
kernel on the restored venv, says so in the job's log events, and fails a job whose environment
cannot be restored before any cell runs."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from nbqueue.environment.install import find_uv

from conftest import FakeSidecar, make_notebook, run_runner, start_runner, wait_for

pytestmark = pytest.mark.timeout(300)

PYTHON = {"version": ".".join(map(str, sys.version_info[:3]))}
NOTEBOOK = make_notebook(
    "import six, sys\nprint(six.__version__)\nprint(sys.executable)\nprint(six.__file__)"
)


def restore_payload(cache_dir, packages, **restore) -> dict:
    return {
        "mode": "restore",
        "captured": {"python": PYTHON, "packages": packages},
        "restore": {"cache_dir": str(cache_dir), **restore},
    }


def run_job(tmp_path, environment: dict) -> dict:
    with FakeSidecar(NOTEBOOK) as sidecar:
        sidecar.payload["environment"] = environment
        code, log = run_runner(sidecar.url, tmp_path, timeout=240)
        assert code == 0, log
        logs = [e["message"] for e in sidecar.ordered_events() if e["type"] == "log"]
        return {"finish": sidecar.finishes[0], "logs": logs, "events": sidecar.ordered_events()}


def stdout_of(notebook: dict) -> str:
    return "".join(o.get("text", "") for cell in notebook["cells"] for o in cell.get("outputs", []))


def test_the_kernel_runs_in_the_restored_venv_and_a_second_job_hits_the_cache(tmp_path):
    cache = tmp_path / "envs"
    environment = restore_payload(cache, [{"name": "six", "version": "1.16.0"}])

    first = run_job(tmp_path, environment)

    assert first["finish"]["state"] == "succeeded", first["finish"]
    notebook = first["finish"]["notebook"]
    out = stdout_of(notebook).split()
    assert out[0] == "1.16.0"  # the runner's own interpreter has six 1.17.0
    # the kernel runs in the job's own venv, importing from the cached one
    assert "nbqueue-job-env-" in out[1] and out[1].endswith("/bin/python")
    assert out[2].startswith(str(cache))
    assert not Path(out[1]).exists(), "the job's venv outlived its runner"
    assert any("Restoring environment: installing 1 package with uv" in m for m in first["logs"])
    recorded = notebook["metadata"]["nbqueue"]["environment"]
    assert recorded["installed"] == ["six==1.16.0"] and recorded["cache_hit"] is False
    # the restore is said before the run starts
    types = [e["type"] for e in first["events"]]
    assert types.index("run_started") > 0 and types[0] == "log"

    second = run_job(tmp_path, environment)

    assert second["finish"]["state"] == "succeeded"
    assert stdout_of(second["finish"]["notebook"]).split()[2] == out[2]
    assert any("Restoring environment: cache hit" in m for m in second["logs"])
    assert not any("installing" in m for m in second["logs"])
    assert second["finish"]["notebook"]["metadata"]["nbqueue"]["environment"]["cache_hit"]


def test_an_environment_that_cannot_be_restored_fails_before_any_cell(tmp_path):
    environment = restore_payload(
        tmp_path / "envs",
        [
            {"name": "six", "version": "99.0"},
            {"name": "mylib", "version": "0.1", "editable": True, "url": "file:///home/a/mylib"},
        ],
    )

    job = run_job(tmp_path, environment)

    finish = job["finish"]
    assert finish["state"] == "failed"
    assert finish["reason"].startswith("The kernel's environment cannot be restored:")
    assert "mylib 0.1: an editable install from the local path /home/a/mylib" in finish["reason"]
    assert not any(e["type"] in ("run_started", "cell_started") for e in job["events"])
    assert stdout_of(finish["notebook"]) == ""


def test_kernel_mode_runs_on_the_runners_own_interpreter(tmp_path):
    environment = restore_payload(tmp_path / "envs", [{"name": "six", "version": "1.16.0"}])
    environment["mode"] = "kernel"

    job = run_job(tmp_path, environment)

    assert stdout_of(job["finish"]["notebook"]).split()[:2] == ["1.17.0", sys.executable]
    assert not (tmp_path / "envs").exists()


def test_cancel_during_the_restore_ends_the_job_cancelled(tmp_path):
    real = find_uv()
    slow = tmp_path / "uv"
    slow.write_text(f'#!/bin/sh\nif [ "$1" = pip ]; then exec sleep 300; fi\nexec "{real}" "$@"\n')
    slow.chmod(0o755)
    environment = restore_payload(tmp_path / "envs", [{"name": "six", "version": "1.16.0"}])
    with FakeSidecar(NOTEBOOK) as sidecar:
        sidecar.payload["environment"] = environment
        process = start_runner(sidecar.url, tmp_path, NBQUEUE_UV=str(slow))
        try:
            wait_for(
                lambda: sidecar.has_event(lambda e: "installing" in e.get("message", "")),
                timeout=60,
                what="the restore to start installing",
            )
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, output
        assert sidecar.finishes[0]["state"] == "cancelled"
        assert not sidecar.has_event(lambda e: e["type"] == "run_started")


def test_what_a_job_installs_stays_in_that_job(tmp_path):
    """`pip install` in a cell goes to the job's venv: the cached one, shared by every job with
    the same environment, is left as it was."""
    cache = tmp_path / "envs"
    environment = restore_payload(cache, [{"name": "six", "version": "1.16.0"}])
    installs = make_notebook(
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',"
        " 'tomli==2.0.1'], check=True)\n"
        "import tomli\nprint(tomli.__file__)"
    )
    with FakeSidecar(installs) as sidecar:
        sidecar.payload["environment"] = environment
        code, log = run_runner(sidecar.url, tmp_path, timeout=240)
        assert code == 0, log
        finish = sidecar.finishes[0]
    assert finish["state"] == "succeeded", finish["reason"]
    assert "nbqueue-job-env-" in stdout_of(finish["notebook"])

    cached_python = next(cache.glob("*/bin/python"))
    missing = subprocess.run(
        [str(cached_python), "-c", "import tomli"], capture_output=True, text=True
    )
    assert "No module named 'tomli'" in missing.stderr
