"""The runner starts the job's kernel while it fetches the job (nbqueue.runner.early_kernel), and
a warm runner (NBQUEUE_WARM=1) before its job is handed over on stdin: the notebook sees the same
variables, folder and import path as on a kernel started for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import (
    JOB_ID,
    JOB_TOKEN,
    FakeSidecar,
    make_notebook,
    run_runner,
    runner_env,
    wait_for,
)

# What the notebook can see of its start. JPY_PARENT_PID is the runner's pid (each run its own).
SEEN = (
    "import json, os, sys\n"
    "env = {k: v for k, v in os.environ.items() if k != 'JPY_PARENT_PID'}\n"
    "print(json.dumps({'pid': os.getpid(), 'env': env, 'cwd': os.getcwd(),"
    " 'path': sys.path, 'dh': [repr(d) for d in _dh]}))"
)


def _kernel_children(pid: int) -> list[int]:
    """The ipykernel processes whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and b"ipykernel_launcher" in cmdline:
            found.append(int(entry))
    return found


class SlowSidecar(FakeSidecar):
    """Answers GET …/job only once the runner's kernel process exists (None: it never did,
    within the deadline): what the runner started before its job came."""

    runner_pid: int | None = None
    kernel_before_job: list[int] | None = None

    def _handler_class(self):
        base_class = super()._handler_class()
        sidecar = self

        class Handler(base_class):
            def do_GET(self):
                if self.path == f"/api/runner/jobs/{JOB_ID}" and sidecar.kernel_before_job is None:
                    try:
                        sidecar.kernel_before_job = wait_for(
                            lambda: sidecar.runner_pid and _kernel_children(sidecar.runner_pid),
                            timeout=30,
                            what="the runner's kernel",
                        )
                    except AssertionError:
                        sidecar.kernel_before_job = []
                super().do_GET()

        return Handler


def _printed(sidecar: FakeSidecar) -> dict:
    assert sidecar.finishes and sidecar.finishes[-1]["state"] == "succeeded", sidecar.finishes
    texts = [
        e["output"]["text"]
        for e in sidecar.ordered_events()
        if e["type"] == "output" and e["output"].get("name") == "stdout"
    ]
    return json.loads("".join(texts))


def test_the_kernel_starts_before_the_job_is_fetched_and_runs_the_job(tmp_path):
    with SlowSidecar(make_notebook(SEEN)) as sidecar:
        process = subprocess.Popen(
            [sys.executable, "-m", "nbqueue.runner"],
            cwd=str(tmp_path),
            env=runner_env(sidecar.url),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        sidecar.runner_pid = process.pid
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    # The sidecar held the job back until the kernel ran: it was started before the fetch...
    assert sidecar.kernel_before_job, output
    # ...and that kernel, not a second one, ran the notebook.
    assert _printed(sidecar)["pid"] in sidecar.kernel_before_job


def _start_warm_runner(url, cwd):
    """A runner started as the sidecar starts a warm one: no job yet, its job comes on stdin."""
    env = runner_env(url, NBQUEUE_WARM="1")
    del env["NBQUEUE_JOB_ID"], env["NBQUEUE_JOB_TOKEN"]
    return subprocess.Popen(
        [sys.executable, "-m", "nbqueue.runner"],
        cwd=str(cwd),
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_warm_runner_gives_the_job_what_a_cold_start_gives(tmp_path):
    start_dir, job_dir = tmp_path / "start", tmp_path / "job"
    start_dir.mkdir()
    job_dir.mkdir()
    with FakeSidecar(make_notebook(SEEN)) as sidecar:
        code, output = run_runner(sidecar.url, job_dir)
        assert code == 0, output
        cold = _printed(sidecar)
        assert cold["env"].pop("NBQUEUE_URL") == sidecar.url
    with FakeSidecar(make_notebook(SEEN)) as sidecar:
        process = _start_warm_runner(sidecar.url, start_dir)
        # The kernel runs before the job is known; then the job comes.
        kernels = wait_for(lambda: _kernel_children(process.pid), what="the warm kernel")
        handover = {"job_id": JOB_ID, "token": JOB_TOKEN, "cwd": str(job_dir)}
        output, _ = process.communicate(json.dumps(handover) + "\n", timeout=60)
        assert process.returncode == 0, output
        warm = _printed(sidecar)
        assert warm["env"].pop("NBQUEUE_URL") == sidecar.url  # two fake sidecars: two URLs
    assert warm["pid"] in kernels
    assert "NBQUEUE_JOB_TOKEN" not in warm["env"]
    assert warm["env"]["NBQUEUE_JOB_ID"] == JOB_ID
    for seen in ("env", "cwd", "path", "dh"):
        assert warm[seen] == cold[seen], seen


def test_a_warm_runner_whose_stdin_ends_stops_with_its_kernel(tmp_path):
    process = _start_warm_runner("http://127.0.0.1:9", tmp_path)
    kernels = wait_for(lambda: _kernel_children(process.pid), what="the warm kernel")
    output, _ = process.communicate("", timeout=30)
    assert process.returncode == 0, output
    assert "no job was handed over" in output
    wait_for(lambda: not any(os.path.exists(f"/proc/{k}") for k in kernels), what="no kernel")


def test_a_kernel_started_on_another_interpreter_is_not_taken_and_is_stopped(tmp_path):
    from nbqueue.runner.early_kernel import EarlyKernel

    early = EarlyKernel(cwd=str(tmp_path))
    # A restored environment's interpreter: the job starts its own kernel.
    assert "restored environment" in (early.fits("/opt/venv/bin/python", None) or "")
    assert "restored environment" in (early.fits(None, {"VIRTUAL_ENV": "/opt/venv"}) or "")
    assert early.fits(None, None) is None
    pid = early.km.provisioner.process.pid
    early.discard()
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), what="the early kernel to stop")
