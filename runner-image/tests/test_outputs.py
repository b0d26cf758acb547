"""nbqueue.output: values a notebook hands to the next pipeline steps (a real runner, a real
ipykernel, the fake sidecar), and the same call outside a job."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest

from nbqueue.outputs import MAX_VALUE_BYTES, OUTPUT_MIME, OutputError, encode_value

from conftest import RUNNER_IMAGE, FakeSidecar, run_runner


def write_notebook(path, *sources: str) -> dict:
    """Writes a notebook as JupyterLab saves one, and reads it back as the sidecar gets it."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for i, source in enumerate(sources):
        cell = nbformat.v4.new_code_cell(source)
        cell["id"] = f"cell-{i}"
        nb.cells.append(cell)
    nbformat.write(nb, str(path))
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("outputs-job")
    notebook = write_notebook(
        cwd / "prepare.ipynb",
        "import nbqueue\n"
        "nbqueue.output('rows', 10)\n"
        "nbqueue.output('rows', 12)  # the last value counts\n"
        "nbqueue.output('split', {'train': 0.8, 'names': ['a', 'b'], 'ok': True, 'none': None})",
        "try:\n"
        "    nbqueue.output('bad name', 1)\n"
        "except ValueError as error:\n"
        "    print('refused:', error)\n"
        "try:\n"
        "    nbqueue.output('obj', object())\n"
        "except ValueError as error:\n"
        "    print('refused:', error)",
    )
    with FakeSidecar(notebook) as sidecar:
        code, log = run_runner(sidecar.url, cwd)
        yield {"code": code, "log": log, "events": sidecar.ordered_events(), **sidecar.finishes[0]}


def test_values_become_output_value_events(job, event_validator):
    assert job["code"] == 0, job["log"]
    assert job["state"] == "succeeded", job["reason"]
    values = [e for e in job["events"] if e["type"] == "output_value"]
    assert [(e["name"], e["value"]) for e in values] == [
        ("rows", 10),
        ("rows", 12),
        ("split", {"train": 0.8, "names": ["a", "b"], "ok": True, "none": None}),
    ]
    assert all(e["cell_id"] == "cell-0" and e["cell_index"] == 0 for e in values)
    for event in values:
        assert not list(event_validator.iter_errors(event)), event


def test_bad_names_and_values_are_refused_in_the_cell(job):
    text = json.dumps(job["notebook"]["cells"][1]["outputs"])
    assert "refused: nbqueue.output: the name 'bad name' is not usable" in text
    assert "refused: nbqueue.output: the value of 'obj' is not JSON" in text


def test_the_private_message_never_reaches_the_notebook(job):
    assert OUTPUT_MIME not in json.dumps(job["notebook"])
    assert OUTPUT_MIME not in json.dumps([e for e in job["events"] if e["type"] == "output"])


def test_the_event_schema_refuses_a_bad_name(event_validator):
    event = {"seq": 1, "time": 1.0, "type": "output_value", "name": "1x", "value": 1}
    assert list(event_validator.iter_errors(event))
    assert list(event_validator.iter_errors({**event, "name": "x"})) == []
    assert list(event_validator.iter_errors({"seq": 1, "time": 1.0, "type": "output_value"}))


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("", 1, "is not usable"),
        ("x" * 65, 1, "is not usable"),
        ("class", 1, "is not usable"),
        (3, 1, "is not usable"),
        ("nan", float("nan"), "is not JSON"),
        ("keys", {1: 2, (1, 2): 3}, "is not JSON"),
        ("big", "x" * MAX_VALUE_BYTES, f"more than the {MAX_VALUE_BYTES} allowed"),
    ],
)
def test_encode_value_says_what_is_wrong(name, value, says):
    with pytest.raises(OutputError, match=says):
        encode_value(name, value)


def test_outside_a_job_it_prints_a_note(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBQUEUE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(RUNNER_IMAGE), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", "import nbqueue; nbqueue.output('rows', [1, 2])"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "not running as an nbqueue job; rows = [1,2] is not kept" in done.stdout
