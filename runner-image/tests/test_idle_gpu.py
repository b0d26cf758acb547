"""The idle GPU guard (profile `idle_gpu`): its decision, then end to end with the real sidecar
(`nbqueue serve`, local backend) and the real runner, GPU samples injected through
NBQUEUE_TEST_GPU_SAMPLES (a JSON file of utilisation percents, re-read at each sample)."""

from __future__ import annotations

import json
import time
import urllib.request

import nbformat
import pytest
from corpus_harness import TOKEN, Sidecar

from nbqueue.runner.idle_gpu import IdleGpuGuard, IdleGpuSettings

from conftest import make_notebook

# -- the decision --------------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def guard(action="warn", below=5.0, minutes=1.0):
    clock, acted = Clock(), []
    settings = IdleGpuSettings(below, minutes, action)
    return IdleGpuGuard(settings, lambda s, m: acted.append((s.action, m)), clock), clock, acted


def test_acts_once_all_gpus_stayed_below_for_the_minutes():
    g, clock, acted = guard()
    for t in range(0, 60, 5):  # 0..55 s idle: not yet a minute
        clock.now = t
        assert not g.observe([1.0, 4.9])
    clock.now = 60
    assert g.observe([0.0, 2.0])
    assert acted == [("warn", "GPU idle (<5 %) for 1 min")]
    clock.now = 600  # the same idle period: no second warning
    assert not g.observe([0.0, 0.0]) and len(acted) == 1


def test_one_busy_gpu_ends_the_idle_period_and_a_new_one_acts_again():
    g, clock, acted = guard(minutes=0.5)
    g.observe([1.0, 1.0])
    clock.now = 29
    g.observe([1.0, 5.0])  # GPU 1 at the threshold: busy, the period ends
    clock.now = 45
    assert not g.observe([1.0, 1.0])  # a new period starts here
    clock.now = 74
    assert not g.observe([1.0, 1.0]) and acted == []
    clock.now = 75
    assert g.observe([1.0, 1.0]) and len(acted) == 1
    clock.now = 80
    g.observe([90.0, 0.0])
    clock.now = 81
    g.observe([0.0, 0.0])
    clock.now = 111
    assert g.observe([0.0, 0.0]) and len(acted) == 2


def test_no_gpu_sample_judges_nothing():
    g, clock, acted = guard(minutes=0.01)
    g.observe([])
    clock.now = 100
    assert not g.observe([]) and acted == []


@pytest.mark.parametrize(
    "spec, expected",
    [
        (None, None),
        ({}, None),
        ({"minutes": 30}, IdleGpuSettings(5.0, 30.0, "warn")),
        ({"below_percent": 10, "minutes": 0.5, "action": "stop"}, IdleGpuSettings(10, 0.5, "stop")),
        ({"minutes": 30, "action": "kill"}, None),
        ({"minutes": -1}, None),
        ({"minutes": "soon"}, None),
        ("warn", None),
    ],
)
def test_settings_from_the_payload(spec, expected):
    assert IdleGpuSettings.from_payload(spec) == expected


# -- end to end ----------------------------------------------------------------------------------

MINUTES = 0.01  # 0.6 s


def _post(sidecar: Sidecar, route: str, body: dict) -> dict:
    request = urllib.request.Request(
        sidecar.url + route,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _events(sidecar: Sidecar, job_id: str) -> list[dict]:
    return sidecar.api("GET", f"/api/jobs/{job_id}/events?after=0")["events"]


def _until(condition, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def sidecar(tmp_path_factory):
    home = tmp_path_factory.mktemp("idle-gpu")
    samples = home / "gpu-samples.json"
    samples.write_text("[1, 2]")
    side = Sidecar(home / "home", capacity=1)
    config_path = side.home / "config.json"
    config = json.loads(config_path.read_text())
    guard = {"below_percent": 5, "minutes": MINUTES}
    config["profiles"] += [
        {"name": "gpu-warn", "cpus": 1, "gpus": 2, "memory": "2Gi", "capacity": 1,
         "idle_gpu": {**guard, "action": "warn"}},
        {"name": "gpu-stop", "cpus": 1, "gpus": 2, "memory": "2Gi", "capacity": 1,
         "idle_gpu": {**guard, "action": "stop"}},
    ]  # fmt: skip
    config["backend"]["local"]["env"] = {
        "NBQUEUE_TEST_GPU_SAMPLES": str(samples),
        "NBQUEUE_SYSTEM_METRICS_SECONDS": "0.1",
    }
    config_path.write_text(json.dumps(config))
    with side:
        side.samples = samples
        yield side


def _submit(sidecar: Sidecar, profile: str, *cells: str) -> str:
    nb = make_notebook(*cells)
    path = sidecar.home / f"{profile}.ipynb"
    nbformat.write(nbformat.from_dict(nb), str(path))
    job = _post(
        sidecar, "/api/jobs", {"profile": profile, "notebook": json.loads(path.read_text())}
    )
    return job["id"]


def _ended(sidecar: Sidecar, job_id: str) -> dict | None:
    job = sidecar.api("GET", f"/api/jobs/{job_id}")
    return job if job["state"] in ("succeeded", "failed", "cancelled") else None


def _started(sidecar: Sidecar, job_id: str, cell_id: str) -> bool:
    return any(
        e["type"] == "cell_started" and e["cell_id"] == cell_id for e in _events(sidecar, job_id)
    )


def test_stop_ends_the_job_failed_with_the_reason(sidecar):
    sidecar.samples.write_text("[60, 60]")  # busy until the cell runs
    job_id = _submit(sidecar, "gpu-stop", "import time\ntime.sleep(120)")
    _until(lambda: _started(sidecar, job_id, "cell-0"), "the cell to start")
    sidecar.samples.write_text("[1, 2]")
    job = _until(lambda: _ended(sidecar, job_id), "the idle job to end")
    assert job["state"] == "failed"
    assert job["reason"] == (
        "GPU idle (<5 %) for 0.01 min: the profile's idle_gpu guard stopped the job."
    )
    logs = [e["message"] for e in _events(sidecar, job_id) if e["type"] == "log"]
    assert "Cancel requested by the idle GPU guard: interrupting the kernel." in logs


def test_warn_writes_into_the_running_cell_once_per_idle_period(sidecar):
    sidecar.samples.write_text("[60, 60]")  # busy until the cell that waits runs
    done = sidecar.home / "done"
    job_id = _submit(
        sidecar,
        "gpu-warn",
        "print('start')",
        "import os, time\n"
        f"deadline = time.time() + 60\n"
        f"while not os.path.exists({str(done)!r}) and time.time() < deadline:\n"
        "    time.sleep(0.05)\n"
        "print('end')",
    )

    def warnings():
        return [
            e for e in _events(sidecar, job_id)
            if e["type"] == "output" and "GPU idle" in e["output"].get("text", "")
        ]  # fmt: skip

    _until(lambda: _started(sidecar, job_id, "cell-1"), "the second cell to start")
    sidecar.samples.write_text("[1, 2]")
    first = _until(warnings, "the first idle warning")
    assert len(first) == 1
    # A busy GPU ends the idle period (seen in its metric), then a new one warns again.
    sidecar.samples.write_text("[1, 70]")

    def busy():
        return any(
            e["type"] == "metric" and e["name"] == "system/gpu1/utilization_percent"
            and e["value"] == 70
            for e in _events(sidecar, job_id)
        )  # fmt: skip

    _until(busy, "a busy sample")
    sidecar.samples.write_text("[0, 0]")
    _until(lambda: len(warnings()) == 2, "the second idle warning")
    done.write_text("")
    job = _until(lambda: _ended(sidecar, job_id), "the job to end")
    assert job["state"] == "succeeded", job["reason"]

    shown = warnings()
    assert len(shown) == 2
    text = "nbqueue: GPU idle (<5 %) for 0.01 min; the job still holds its GPU(s)."
    assert all(e["cell_id"] == "cell-1" and e["output"]["name"] == "stderr" for e in shown)
    assert all(e["output"]["text"].startswith(text) for e in shown)
    logs = [e for e in _events(sidecar, job_id) if e["type"] == "log" and e["level"] == "warning"]
    assert sum(e["message"].startswith(text) for e in logs) == 2
    # The result notebook keeps the warnings in the cell that was running.
    result = sidecar.api("GET", f"/api/jobs/{job_id}/result")
    cell = result["cells"][1]
    stderr = "".join(o.get("text", "") for o in cell["outputs"] if o.get("name") == "stderr")
    assert stderr.count(text) == 2
    assert "end" in "".join(o.get("text", "") for o in cell["outputs"] if o.get("name") == "stdout")
