"""Papermill's and nbclient's conventions, on notebooks in the form they have on disk.

Every notebook here is written with `nbformat.write` (sources as lists of lines, an old minor
version, no cell ids, no kernelspec) and read back as plain JSON, as the sidecar receives it.
"""

from __future__ import annotations

import json
import re
import time

import nbformat
import pytest

from conftest import FakeSidecar, run_runner


def on_disk(tmp_path, *cells, minor: int = 2) -> dict:
    """cells: code sources, or (source, tags). Written by nbformat as a 4.`minor` notebook."""
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = minor
    for spec in cells:
        source, tags = (spec, []) if isinstance(spec, str) else spec
        cell = nbformat.v4.new_code_cell(source)
        del cell["id"]  # cells had no ids before nbformat 4.5
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    path = tmp_path / "saved.ipynb"
    with open(path, "w", encoding="utf-8") as f:
        nbformat.write(nb, f, version=4)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert "kernelspec" not in raw["metadata"]
    return raw


def run(tmp_path, notebook: dict, timeout: float = 40, **payload) -> tuple[dict, list[dict], str]:
    with FakeSidecar(notebook) as sidecar:
        sidecar.payload.update(payload)
        code, log = run_runner(sidecar.url, tmp_path, timeout=timeout)
        assert code == 0, log
        return sidecar.finishes[0], sidecar.ordered_events(), log


def texts(cell: dict) -> str:
    return "".join(o.get("text", "") for o in cell["outputs"] if o["output_type"] == "stream")


def test_list_sources_old_minor_no_ids_no_kernelspec(tmp_path):
    nb = on_disk(tmp_path, "a = 1\nb = 2\nprint(a + b)", "for i in range(3):\n    print(i)")
    assert isinstance(nb["cells"][0]["source"], list) and "id" not in nb["cells"][0]
    finish, events, log = run(tmp_path, nb)
    assert finish["state"] == "succeeded", log
    cells = finish["notebook"]["cells"]
    assert finish["notebook"]["nbformat_minor"] == 5
    assert all(c["id"] for c in cells)
    assert texts(cells[0]) == "3\n" and texts(cells[1]) == "0\n1\n2\n"
    started = [e["cell_id"] for e in events if e["type"] == "cell_started"]
    assert started == [c["id"] for c in cells]


@pytest.mark.parametrize("stop", ["sys.exit(0)", "sys.exit()", "raise SystemExit"])
def test_clean_exit_stops_early_and_succeeds(tmp_path, stop):
    nb = on_disk(tmp_path, "print('before')", f"import sys\n{stop}", "print('after')")
    finish, _, log = run(tmp_path, nb)
    assert finish["state"] == "succeeded", log
    assert finish["reason"] == "The notebook stopped at cell 2 (SystemExit)."
    cells = finish["notebook"]["cells"]
    assert texts(cells[0]) == "before\n"
    assert cells[2]["outputs"] == [] and cells[2]["execution_count"] is None


@pytest.mark.parametrize("code", ["sys.exit(1)", "sys.exit('bad input')"])
def test_exit_with_another_code_fails(tmp_path, code):
    nb = on_disk(tmp_path, f"import sys\n{code}", "print('after')")
    finish, _, log = run(tmp_path, nb)
    assert finish["state"] == "failed", log
    assert finish["reason"].startswith("Cell 1 raised SystemExit:")
    assert finish["notebook"]["cells"][1]["outputs"] == []


def test_raises_exception_goes_on_skip_execution_is_not_run(tmp_path):
    nb = on_disk(
        tmp_path,
        ("raise ValueError('expected')", ["raises-exception"]),
        ("print('skipped')", ["skip-execution"]),
        "print('ran')",
    )
    finish, _, log = run(tmp_path, nb)
    assert finish["state"] == "succeeded", log
    cells = finish["notebook"]["cells"]
    assert cells[0]["outputs"][-1]["ename"] == "ValueError"
    assert cells[1]["outputs"] == [] and cells[1]["execution_count"] is None
    assert texts(cells[2]) == "ran\n"


def test_an_error_fails_the_job_leaves_later_cells_and_logs_the_traceback(tmp_path):
    nb = on_disk(tmp_path, "x = 1", "def f():\n    raise KeyError('missing')\nf()", "print(x)")
    finish, events, log = run(tmp_path, nb)
    assert finish["state"] == "failed", log
    assert finish["reason"] == "Cell 2 raised KeyError: 'missing'"
    assert finish["notebook"]["cells"][2]["outputs"] == []
    errors = [e for e in events if e["type"] == "log" and e["level"] == "error"]
    banner = errors[0]["message"]
    assert banner.startswith("Cell 2 raised KeyError.\n")
    assert "f()" in banner and "KeyError: 'missing'" in banner and "\x1b[" not in banner


def test_input_fails_at_once(tmp_path):
    nb = on_disk(tmp_path, "name = input('Your name? ')", "print(name)")
    started = time.monotonic()
    finish, _, log = run(tmp_path, nb)
    assert time.monotonic() - started < 30
    assert finish["state"] == "failed", log
    assert finish["reason"].startswith("Cell 1 raised StdinNotImplementedError")


def test_kernel_death_names_the_cell_and_keeps_what_was_printed(tmp_path):
    # The pause lets ipykernel's IOPub thread send the line before the process goes: a line
    # still inside the kernel when it dies is lost under papermill as well.
    nb = on_disk(
        tmp_path,
        "print('first')",
        "import os, time\nprint('dying', flush=True)\ntime.sleep(1)\nos._exit(1)",
    )
    finish, _, log = run(tmp_path, nb)
    assert finish["state"] == "failed", log
    assert finish["reason"].startswith("The kernel died while running cell 2 (exit code 1)")
    cells = finish["notebook"]["cells"]
    assert texts(cells[0]) == "first\n"
    assert texts(cells[1]) == "dying\n"


def test_deadline_stops_an_endless_loop_and_keeps_its_output(tmp_path):
    nb = on_disk(
        tmp_path,
        "print('start', flush=True)",
        "import time\nwhile True:\n    time.sleep(0.05)",
        "print('never')",
    )
    started = time.monotonic()
    finish, _, log = run(tmp_path, nb, deadline_seconds=3, cancel_grace_seconds=2)
    assert time.monotonic() - started < 25
    assert finish["state"] == "failed", log
    assert finish["reason"].startswith("The job ran longer than its deadline of 3 s")
    cells = finish["notebook"]["cells"]
    assert texts(cells[0]) == "start\n"
    assert cells[1]["outputs"][-1]["ename"] == "KeyboardInterrupt"
    assert cells[2]["outputs"] == []


def test_an_output_over_the_event_limit_goes_live_cut_and_whole_in_the_result(tmp_path):
    nb = on_disk(
        tmp_path,
        "print('x' * 300_000)",
        "from IPython.display import HTML\nHTML('<b>' + 'y' * 300_000 + '</b>')",
        "print('small')",
    )
    finish, events, log = run(tmp_path, nb, max_event_bytes=100_000)
    assert finish["state"] == "succeeded", log
    cells = finish["notebook"]["cells"]
    assert texts(cells[0]) == "x" * 300_000 + "\n"
    assert len(cells[1]["outputs"][0]["data"]["text/html"]) == 300_007
    live = [e["output"] for e in events if e["type"] == "output"]
    cut = re.fullmatch(r"(x+)… \[truncated (\d+) bytes\]\n", live[0]["text"])
    assert cut and len(cut[1]) > 90_000  # as much as fits the 100 KB limit
    assert len(cut[1]) + int(cut[2]) == 300_001
    assert live[1]["data"] == {
        "text/plain": "[nbqueue: this output is 0.3 MB, too large to show live; "
        "open the result to see it]"
    }
    assert live[2]["text"] == "small\n"
