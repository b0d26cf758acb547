"""A real runner process, a real ipykernel, a fake sidecar: the events and the result."""

from __future__ import annotations

import sys
import time

import pytest

from nbqueue.runner.notebook import normalize_notebook
from nbqueue.runner.replay import apply_events

from conftest import FakeSidecar, make_notebook, run_runner

RICH = make_notebook(
    ("# A title", {"type": "markdown"}),
    "import os, sys\nprint(sys.executable)\nprint(os.getcwd())\nprint('oops', file=sys.stderr)",
    "from IPython.display import clear_output, display, update_display\n"
    "display({'text/plain': 'v1'}, raw=True, display_id='d1')",
    "update_display({'text/plain': 'v2'}, raw=True, display_id='d1')",
    "for i in range(3):\n    clear_output(wait=True)\n    print(i)",
    "print('gone')\nclear_output()",
    "6 * 7",
    ("1 / 0", {"tags": ["raises-exception"]}),
    "x = 1\n1 / 0",
    "print('never runs')",
)


def cells_of(nb: dict) -> list[dict]:
    return [
        {k: cell.get(k) for k in ("id", "cell_type", "source", "outputs", "execution_count")}
        for cell in nb["cells"]
    ]


@pytest.fixture(scope="module")
def rich_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("job-cwd")
    with FakeSidecar(RICH) as sidecar:
        started = time.time()
        code, log = run_runner(sidecar.url, cwd)
        yield {
            "code": code,
            "log": log,
            "events": sidecar.ordered_events(),
            "received": sidecar.received,
            "finish": sidecar.finishes,
            "cwd": cwd,
            "started": started,
        }


def test_exit_zero_and_one_finish(rich_run):
    assert rich_run["code"] == 0, rich_run["log"]
    assert len(rich_run["finish"]) == 1


def test_fails_at_first_unallowed_error_with_reason(rich_run):
    finish = rich_run["finish"][0]
    assert finish["state"] == "failed"
    # cell 9 of the job's notebook (1-based, markdown counted), `x = 1\n1 / 0`
    assert finish["reason"] == "Cell 9 raised ZeroDivisionError: division by zero"


def test_seq_contiguous_and_each_seq_sent_once(rich_run):
    events = rich_run["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    sent = [seq for batch in rich_run["received"] for seq in batch]
    assert sorted(sent) == list(range(1, len(events) + 1))


def test_events_validate_against_schema(rich_run, event_validator):
    for event in rich_run["events"]:
        errors = list(event_validator.iter_errors(event))
        assert not errors, (event, [e.message for e in errors])


def test_times_are_epoch_ms_and_monotonic(rich_run):
    times = [e["time"] for e in rich_run["events"]]
    assert all(isinstance(t, int) for t in times)
    assert times == sorted(times)
    assert rich_run["started"] * 1000 - 5000 < times[0] < time.time() * 1000 + 1000


def test_event_sequence_per_cell(rich_run):
    events = rich_run["events"]
    assert events[0]["type"] == "run_started"
    assert events[0]["cells"] == len(RICH["cells"])
    started = [e["cell_id"] for e in events if e["type"] == "cell_started"]
    finished = [(e["cell_id"], e["status"]) for e in events if e["type"] == "cell_finished"]
    assert started == [f"cell-{i}" for i in range(1, 9)]
    # Progress: which code cell (1-based, markdown not counted) of how many.
    code_ids = [c["id"] for c in RICH["cells"] if c["cell_type"] == "code"]
    assert events[0]["code_cells"] == len(code_ids)
    numbered = [(e["cell_id"], e["code_cell"]) for e in events if e["type"] == "cell_started"]
    assert numbered == [(i, code_ids.index(i) + 1) for i in started]
    assert finished == [(f"cell-{i}", "ok") for i in range(1, 7)] + [
        ("cell-7", "error"),
        ("cell-8", "error"),
    ]
    # every event of a cell (logs aside) lies between its cell_started and its cell_finished
    for cell_id in started:
        kinds = [e["type"] for e in events if e.get("cell_id") == cell_id and e["type"] != "log"]
        assert kinds[0] == "cell_started" and kinds[-1] == "cell_finished", kinds
        assert kinds.count("cell_started") == 1 and kinds.count("cell_finished") == 1


def test_kernel_runs_on_runner_interpreter_in_job_cwd(rich_run):
    out = [
        e["output"]
        for e in rich_run["events"]
        if e["type"] == "output" and e["cell_id"] == "cell-1" and e["output"]["name"] == "stdout"
    ]
    text = "".join(o["text"] for o in out).splitlines()
    assert text == [sys.executable, str(rich_run["cwd"])]
    stderr = [
        e
        for e in rich_run["events"]
        if e["type"] == "output" and e["cell_id"] == "cell-1" and e["output"]["name"] == "stderr"
    ]
    assert stderr and stderr[0]["output"]["text"] == "oops\n"


def test_display_id_update_and_clear_events(rich_run):
    events = rich_run["events"]
    display = next(e for e in events if e["type"] == "output" and e["cell_id"] == "cell-2")
    assert display["display_id"] == "d1"
    assert display["output"]["data"] == {"text/plain": "v1"}
    update = next(e for e in events if e["type"] == "update_display_data")
    assert update["display_id"] == "d1" and update["output"]["data"] == {"text/plain": "v2"}
    waits = [e["wait"] for e in events if e["type"] == "clear_output" and e["cell_id"] == "cell-4"]
    assert waits == [True, True, True]
    now = [e["wait"] for e in events if e["type"] == "clear_output" and e["cell_id"] == "cell-5"]
    assert now == [False]
    error = next(e for e in events if e["type"] == "output" and e["cell_id"] == "cell-8")
    assert error["output"]["output_type"] == "error"
    assert error["output"]["ename"] == "ZeroDivisionError"


def test_result_notebook_is_the_events_applied(rich_run):
    finish = rich_run["finish"][0]
    expected = apply_events(normalize_notebook(RICH), rich_run["events"])
    assert cells_of(finish["notebook"]) == cells_of(expected)
    cells = {c["id"]: c for c in finish["notebook"]["cells"]}
    assert cells["cell-2"]["outputs"][0]["data"] == {"text/plain": "v2"}
    assert [o["text"] for o in cells["cell-4"]["outputs"]] == ["2\n"]
    assert cells["cell-5"]["outputs"] == []
    assert cells["cell-6"]["outputs"][0]["data"] == {"text/plain": "42"}
    assert cells["cell-9"]["outputs"] == [] and cells["cell-9"]["execution_count"] is None
    assert finish["notebook"]["nbformat"] == 4 and finish["notebook"]["nbformat_minor"] >= 5


def test_progress_logged_to_stderr(rich_run):
    assert "Cell 9 raised ZeroDivisionError: division by zero" in rich_run["log"]
    assert "finish delivered" in rich_run["log"]


def test_parameters_injected_and_used(tmp_path):
    nb = make_notebook(
        ("epochs = 1\nname = 'x'", {"tags": ["parameters"]}),
        "print(epochs, name, flag, lr)",
    )
    parameters = {"epochs": 3, "name": "run", "flag": True, "lr": None}
    with FakeSidecar(nb, parameters=parameters) as sidecar:
        code, log = run_runner(sidecar.url, tmp_path)
        finish = sidecar.finishes[0]
    assert code == 0, log
    assert finish["state"] == "succeeded" and finish["reason"] is None
    cells = finish["notebook"]["cells"]
    assert cells[1]["metadata"]["tags"] == ["injected-parameters"]
    assert cells[2]["outputs"][0]["text"] == "3 run True None\n"


def test_print_reaches_the_sidecar_while_the_cell_still_runs(tmp_path):
    """Output streams: lines arrive at the sidecar while the cell is still printing, not at its
    end. (How fast is measured by `make bench`, as a ratio, not asserted here.)"""
    nb = make_notebook(
        "import time\nfor _ in range(40):\n    print(repr(time.time()), flush=True)\n"
        "    time.sleep(0.02)"
    )
    with FakeSidecar(nb) as sidecar:
        code, log = run_runner(sidecar.url, tmp_path)
        assert code == 0, log
        arrivals = [
            (float(line), sidecar.arrived[e["seq"]])
            for e in sidecar.ordered_events()
            if e["type"] == "output"
            for line in e["output"]["text"].splitlines()
        ]
    assert len(arrivals) == 40
    last_printed = max(printed for printed, _ in arrivals)
    early = [printed for printed, arrived in arrivals if arrived < last_printed]
    # 40 lines over at least 0.8 s: the first half at least is out before the last is printed.
    assert len(early) >= 20, f"{len(early)} of 40 lines arrived before the cell's last print"


def test_stream_chunks_merge_and_redisplay_updates(tmp_path):
    nb = make_notebook(
        "import sys\nfor i in range(5):\n    print(i, flush=True)\n"
        "print('e', file=sys.stderr, flush=True)\nprint('last', flush=True)",
        "from IPython.display import display\n"
        "display({'text/plain': 'a'}, raw=True, display_id='x')\nprint('between')\n"
        "h = display({'text/plain': 'b'}, raw=True, display_id='x')",
    )
    with FakeSidecar(nb) as sidecar:
        code, log = run_runner(sidecar.url, tmp_path)
        assert code == 0, log
        events = sidecar.ordered_events()
        outputs = sidecar.finishes[0]["notebook"]["cells"][0]["outputs"]
    chunks = [e for e in events if e["type"] == "output"]
    assert len(chunks) >= 7  # one event per flushed print
    assert [(o["name"], o["text"]) for o in outputs] == [
        ("stdout", "0\n1\n2\n3\n4\n"),
        ("stderr", "e\n"),
        ("stdout", "last\n"),
    ]
    replayed = apply_events(normalize_notebook(nb), events)
    assert replayed["cells"][0]["outputs"] == outputs
    # showing a display id again updates the earlier output too (as nbclient and JupyterLab do)
    second = sidecar.finishes[0]["notebook"]["cells"][1]["outputs"]
    assert [o.get("data", {}).get("text/plain") for o in second] == ["b", None, "b"]
    assert replayed["cells"][1]["outputs"] == second
