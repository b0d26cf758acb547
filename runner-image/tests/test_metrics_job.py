"""nbqueue.log_metric inside a job: a real runner, a real ipykernel, the fake sidecar."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from nbqueue.metrics import METRICS_MIME, POINTS_MIME

from conftest import FakeSidecar, make_notebook, run_runner

NOTEBOOK = make_notebook(
    "import nbqueue, time\n"
    "print('training')\n"
    "for i in range(50):\n"
    "    nbqueue.log_metric('loss', 1 / (i + 1))\n"
    "    time.sleep(0.01)\n"
    "nbqueue.log_metric('loss', float('nan'))\n"
    "nbqueue.log_metric('loss', 'bad')",
    "for i in range(1500):\n    nbqueue.log_metrics({'acc': i / 1500, 'lr': 0.1}, step=i)",
    "time.sleep(0.5)",
)


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("metrics-job")
    with FakeSidecar(NOTEBOOK) as sidecar:
        code, log = run_runner(sidecar.url, cwd, NBQUEUE_SYSTEM_METRICS_SECONDS="0.2")
        yield {"code": code, "log": log, "events": sidecar.ordered_events(), **sidecar.finishes[0]}


def metrics(job, kind):
    return [e for e in job["events"] if e["type"] == "metric" and e["kind"] == kind]


def test_job_succeeds(job):
    assert job["code"] == 0, job["log"]
    assert job["state"] == "succeeded", job["reason"]


def test_points_become_user_metric_events(job, event_validator):
    user = metrics(job, "user")
    loss = [e for e in user if e["name"] == "loss"]
    assert [e["step"] for e in loss] == list(range(51))
    assert [e["value"] for e in loss[:50]] == pytest.approx([1 / (i + 1) for i in range(50)])
    assert loss[50]["value"] is None  # NaN, sent as null
    assert all(e["cell_id"] == "cell-0" and e["cell_index"] == 0 for e in loss)
    acc = [e for e in user if e["name"] == "acc"]
    assert [e["step"] for e in acc] == list(range(1500))
    assert len([e for e in user if e["name"] == "lr"]) == 1500
    times = [e["time"] for e in loss]
    assert times == sorted(times) and times[-1] - times[0] >= 400  # the point's own time
    for event in user[:100] + user[-100:]:
        assert not list(event_validator.iter_errors(event)), event


def test_the_chart_is_an_ordinary_output_and_in_the_result(job):
    outputs = [e for e in job["events"] if e["type"] == "output" and e["cell_id"] == "cell-0"]
    charts = [e for e in outputs if METRICS_MIME in e["output"].get("data", {})]
    assert len(charts) == 1 and charts[0]["display_id"]
    updates = [
        e
        for e in job["events"]
        if e["type"] == "update_display_data" and e["display_id"] == charts[0]["display_id"]
    ]
    assert updates
    cell = job["notebook"]["cells"][0]
    shown = [o for o in cell["outputs"] if METRICS_MIME in o.get("data", {})]
    assert len(shown) == 1
    (loss,) = shown[0]["data"][METRICS_MIME]["series"]
    assert loss["steps"] == list(range(51)) and loss["values"][-1] is None
    assert "MetricWarning" in json.dumps(cell["outputs"])  # the refused 'bad' value


def test_private_points_never_reach_the_notebook_or_the_events(job):
    assert POINTS_MIME not in json.dumps(job["notebook"])
    assert POINTS_MIME not in json.dumps(job["events"])


def test_system_metrics_sampled_without_gpu_series_here(job, event_validator):
    system = metrics(job, "system")
    names = {e["name"] for e in system}
    assert {"system/cpu_percent", "system/memory_bytes"} <= names
    memory = [e["value"] for e in system if e["name"] == "system/memory_bytes"]
    # Resident memory of the kernel's process tree: never nothing, and once the kernel has
    # imported what it runs, a kernel's size (a sample may catch it just after its start).
    assert memory and all(m > 0 for m in memory)
    assert 10_000_000 < max(memory) < 10_000_000_000
    for event in system:
        assert not list(event_validator.iter_errors(event)), event
        assert "cell_id" not in event
    has_gpu = shutil.which("nvidia-smi") or os.path.exists("/dev/nvidia0")
    if not has_gpu:
        assert not [n for n in names if n.startswith("system/gpu")]
