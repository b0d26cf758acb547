"""Cancel (SIGTERM, SIGINT, or `cancel: true` from the sidecar) and a kernel that dies."""

from __future__ import annotations

import signal
import time

import pytest

from nbqueue.runner.notebook import normalize_notebook
from nbqueue.runner.replay import apply_events

from conftest import FakeSidecar, make_notebook, run_runner, start_runner, wait_for

SLEEPER = make_notebook(
    "print('before')",
    "import time\nprint('sleeping', flush=True)\ntime.sleep(60)",
    "print('after')",
)


def sleeping(sidecar: FakeSidecar) -> bool:
    return sidecar.has_event(
        lambda e: e["type"] == "output" and e.get("output", {}).get("text") == "sleeping\n"
    )


def check_cancelled_result(sidecar: FakeSidecar) -> None:
    finish = sidecar.finishes[0]
    assert finish["state"] == "cancelled"
    assert finish["reason"] == "Cancelled by the user."
    cells = finish["notebook"]["cells"]
    assert cells[0]["outputs"][0]["text"] == "before\n"
    assert cells[1]["outputs"][0]["text"] == "sleeping\n"
    assert cells[2]["outputs"] == [] and cells[2]["execution_count"] is None
    events = sidecar.ordered_events()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    finished = [(e["cell_id"], e["status"]) for e in events if e["type"] == "cell_finished"]
    assert finished == [("cell-0", "ok"), ("cell-1", "error")]
    expected = apply_events(normalize_notebook(SLEEPER), events)
    assert [c["outputs"] for c in cells] == [c["outputs"] for c in expected["cells"]]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_cancels_running_cell_quickly(tmp_path, signum):
    with FakeSidecar(SLEEPER) as sidecar:
        process = start_runner(sidecar.url, tmp_path)
        try:
            wait_for(lambda: sleeping(sidecar), what="the sleeping cell")
            sent = time.monotonic()
            process.send_signal(signum)
            assert process.wait(timeout=15) == 0
            assert time.monotonic() - sent < 8  # interrupted, not the 60 s sleep nor the grace
        finally:
            if process.poll() is None:
                process.kill()
            log = process.communicate()[0]
        check_cancelled_result(sidecar)
        error = sidecar.finishes[0]["notebook"]["cells"][1]["outputs"][-1]
        assert error["output_type"] == "error" and error["ename"] == "KeyboardInterrupt", log
        assert "Cancel requested" in log


def test_cancel_from_events_answer(tmp_path):
    with FakeSidecar(SLEEPER, cancel_when=sleeping) as sidecar:
        code, log = run_runner(sidecar.url, tmp_path, timeout=30)
        assert code == 0, log
        check_cancelled_result(sidecar)


def test_cell_ignoring_interrupt_is_stopped_after_grace(tmp_path):
    stubborn = make_notebook(
        "print('before')",
        "import time\nprint('sleeping', flush=True)\nwhile True:\n"
        "    try:\n        time.sleep(60)\n    except KeyboardInterrupt:\n        pass",
        "print('after')",
    )
    with FakeSidecar(stubborn, grace=1) as sidecar:
        process = start_runner(sidecar.url, tmp_path)
        try:
            wait_for(lambda: sleeping(sidecar), what="the sleeping cell")
            sent = time.monotonic()
            process.terminate()
            assert process.wait(timeout=15) == 0
            took = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
            log = process.communicate()[0]
        assert 1 <= took < 8, log
        finish = sidecar.finishes[0]
        assert finish["state"] == "cancelled" and finish["reason"] == "Cancelled by the user."
        assert finish["notebook"]["cells"][1]["outputs"][0]["text"] == "sleeping\n"
        statuses = [e["status"] for e in sidecar.ordered_events() if e["type"] == "cell_finished"]
        assert statuses == ["ok", "error"]


def test_kernel_death_fails_with_exit_code(tmp_path):
    # SIGKILL is what the OOM killer sends.
    nb = make_notebook(
        "print('hi')", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "print('never')"
    )
    with FakeSidecar(nb) as sidecar:
        code, log = run_runner(sidecar.url, tmp_path)
        assert code == 0, log
        finish = sidecar.finishes[0]
        assert finish["state"] == "failed"
        assert finish["reason"] == (
            "The kernel died while running cell 2 (exit code -9) — it may have run out of memory; "
            "choose a profile with more memory."
        )
        assert finish["notebook"]["cells"][0]["outputs"][0]["text"] == "hi\n"
        assert finish["notebook"]["cells"][2]["execution_count"] is None
        events = sidecar.ordered_events()
        finished = [(e["cell_id"], e["status"]) for e in events if e["type"] == "cell_finished"]
        assert finished == [("cell-0", "ok"), ("cell-1", "error")]
