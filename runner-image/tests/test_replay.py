"""apply_events on hand-written events: the meaning of each event type."""

from __future__ import annotations

from nbqueue.runner.notebook import normalize_notebook
from nbqueue.runner.replay import apply_events

from conftest import make_notebook


def stream(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def display(text):
    return {"output_type": "display_data", "data": {"text/plain": text}, "metadata": {}}


def numbered(*events):
    return [{"seq": i, "time": 0, **e} for i, e in enumerate(events, 1)]


def outputs(nb, i):
    return nb["cells"][i]["outputs"]


def test_deferred_clear_display_updates_and_duplicates():
    nb = normalize_notebook(make_notebook("a", "b"))
    nb.cells[0].outputs = [stream("stale\n")]
    events = numbered(
        {"type": "run_started", "cells": 2},
        {"type": "cell_started", "cell_id": "cell-0", "cell_index": 0},
        {"type": "output", "cell_id": "cell-0", "output": display("v1"), "display_id": "d"},
        {"type": "clear_output", "cell_id": "cell-0", "wait": True},
        {"type": "update_display_data", "display_id": "d", "output": display("v2")},
        {"type": "execution_count", "cell_id": "cell-0", "execution_count": 1},
        {"type": "cell_finished", "cell_id": "cell-0", "cell_index": 0, "status": "ok"},
        {"type": "cell_started", "cell_id": "cell-1", "cell_index": 1},
        {"type": "output", "cell_id": "cell-1", "output": stream("x")},
        {"type": "output", "cell_id": "cell-1", "output": stream("y\n")},
    )
    result = apply_events(nb, events + events[-2:])  # a repeated seq is applied once
    # the pending clear of cell 0 never met another output of that cell
    assert outputs(result, 0) == [display("v2")]
    assert result["cells"][0]["execution_count"] == 1
    assert outputs(result, 1) == [stream("xy\n")]
    assert nb.cells[0].outputs == [stream("stale\n")]  # the input is not changed


def test_deferred_clear_then_output_forgets_old_display():
    nb = normalize_notebook(make_notebook("a"))
    events = numbered(
        {"type": "cell_started", "cell_id": "cell-0", "cell_index": 0},
        {"type": "output", "cell_id": "cell-0", "output": display("v1"), "display_id": "d"},
        {"type": "clear_output", "cell_id": "cell-0", "wait": True},
        {"type": "output", "cell_id": "cell-0", "output": stream("new\n")},
        {"type": "update_display_data", "display_id": "d", "output": display("v2")},
    )
    assert outputs(apply_events(nb, events), 0) == [stream("new\n")]


def test_unknown_cells_and_display_ids_are_ignored():
    nb = normalize_notebook(make_notebook("a"))
    events = numbered(
        {"type": "output", "cell_id": "nope", "output": stream("x")},
        {"type": "update_display_data", "display_id": "zz", "output": display("v")},
        {"type": "log", "level": "info", "message": "hi"},
        {"type": "metric", "name": "loss", "value": 0.5, "step": 1},
    )
    assert apply_events(nb, events)["cells"] == nb["cells"]


def test_superseded_display_update_is_skipped():
    nb = normalize_notebook(make_notebook("a"))
    events = numbered(
        {"type": "cell_started", "cell_id": "cell-0", "cell_index": 0},
        {"type": "output", "cell_id": "cell-0", "output": display("1 point"), "display_id": "c"},
        {"type": "update_display_data", "display_id": "c", "superseded_by": 4},
        {"type": "update_display_data", "display_id": "c", "output": display("3 points")},
    )
    result = apply_events(nb, events)
    assert [o["data"]["text/plain"] for o in outputs(result, 0)] == ["3 points"]
