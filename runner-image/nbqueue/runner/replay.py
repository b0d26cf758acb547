"""Apply a job's events to its notebook: the reference meaning of each event type.

`apply_events(job_notebook, events)` gives the notebook the runner finishes with (same cells,
outputs and execution counts), which is also what a live view shows once it has applied every
event. The live writer in the labextension and the CLI are meant to follow the same rules:

* `run_started`: every code cell's outputs are cleared and its execution count set to null.
* `cell_started`: that cell's outputs are cleared and its execution count set to null.
* `output`: appended to the cell's outputs (after a pending `clear_output(wait=True)` of that
  cell takes effect); a `stream` output right after a `stream` output of the same `name` is
  merged into it instead (its `text` appended), as JupyterLab's output area does. A
  `display_data`/`execute_result` carrying `display_id` first updates the `data` and `metadata`
  of every earlier output shown with that display id, then is appended.
* `clear_output`: `wait: false` clears the cell now; `wait: true` clears it when its next output
  arrives.
* `update_display_data`: replaces `data` and `metadata` of every output shown with the display
  id (in any cell) since that cell was last cleared; unknown display ids are ignored, and so is
  one with no `output` (the sidecar's marker for an update superseded by a later one).
* `execution_count`: sets the cell's execution count.
* `cell_finished`, `metric`, `output_value`, `log`: no change to cells.

Events are applied in `seq` order; one already applied (same seq) is ignored.
"""

from __future__ import annotations

import copy

DISPLAY_OUTPUT_TYPES = ("display_data", "execute_result")


def apply_events(notebook: dict, events: list[dict]) -> dict:
    nb = copy.deepcopy(notebook)
    cells = {cell.get("id"): cell for cell in nb.get("cells", [])}
    displays: dict[str, dict[str, list[int]]] = {}  # display_id -> cell_id -> output indices
    clear_on_next_output: set[str] = set()
    applied: set[int] = set()

    def forget_displays(cell_id: str) -> None:
        for by_cell in displays.values():
            by_cell.pop(cell_id, None)

    def update_display(display_id: str, output: dict) -> None:
        for cell_id, indices in displays.get(display_id, {}).items():
            for index in indices:
                target = cells[cell_id]["outputs"][index]
                target["data"] = copy.deepcopy(output.get("data", {}))
                target["metadata"] = copy.deepcopy(output.get("metadata", {}))

    for event in sorted(events, key=lambda e: e["seq"]):
        if event["seq"] in applied:
            continue
        applied.add(event["seq"])
        kind = event["type"]
        cell = cells.get(event.get("cell_id"))

        if kind == "run_started":
            displays.clear()
            clear_on_next_output.clear()
            for each in cells.values():
                if each.get("cell_type") == "code":
                    each["outputs"] = []
                    each["execution_count"] = None
        elif kind == "update_display_data":
            # Without output: superseded in the sidecar's store by a later update of the display.
            if "output" in event:
                update_display(event["display_id"], event["output"])
        elif cell is None:
            continue
        elif kind == "cell_started":
            cell["outputs"] = []
            cell["execution_count"] = None
            clear_on_next_output.discard(cell["id"])
            forget_displays(cell["id"])
        elif kind == "output":
            output = copy.deepcopy(event["output"])
            display_id = event.get("display_id")
            if display_id and output.get("output_type") in DISPLAY_OUTPUT_TYPES:
                update_display(display_id, output)
            if cell["id"] in clear_on_next_output:
                clear_on_next_output.discard(cell["id"])
                cell["outputs"] = []
                forget_displays(cell["id"])
            if display_id and output.get("output_type") in DISPLAY_OUTPUT_TYPES:
                displays.setdefault(display_id, {}).setdefault(cell["id"], []).append(
                    len(cell["outputs"])
                )
            previous = cell["outputs"][-1] if cell["outputs"] else None
            if (
                output.get("output_type") == "stream"
                and previous is not None
                and previous.get("output_type") == "stream"
                and previous.get("name") == output.get("name")
            ):
                previous["text"] += output.get("text", "")
            else:
                cell["outputs"].append(output)
        elif kind == "clear_output":
            if event.get("wait"):
                clear_on_next_output.add(cell["id"])
            else:
                cell["outputs"] = []
                forget_displays(cell["id"])
        elif kind == "execution_count":
            cell["execution_count"] = event["execution_count"]
    return nb
