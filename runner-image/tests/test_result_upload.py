"""The executed notebook goes back as an upload of its own (PUT …/result), streamed from a
file, and the finish names it; refusals end the job with a reason, nothing is lost silently."""

from __future__ import annotations

import hashlib
import json
import tracemalloc

import nbformat

from nbqueue.runner.result import write_notebook
from nbqueue.runner.sidecar_client import SidecarClient

from conftest import JOB_ID, JOB_TOKEN, FakeSidecar, make_notebook, run_runner

# About 3 MB of output: more than a few blocks of the upload.
BIG = make_notebook("print('x' * 1_000_000)\nprint('y' * 2_000_000)", "print('done')")


def raw_finish(sidecar: FakeSidecar) -> dict:
    assert len(sidecar.finishes) == 1
    return sidecar.finishes[0]


def test_result_is_uploaded_as_a_file_and_the_finish_names_it(tmp_path):
    with FakeSidecar(BIG) as sidecar:
        code, log = run_runner(sidecar.url, tmp_path)
    assert code == 0, log
    assert len(sidecar.uploads) == 1
    upload = sidecar.uploads[0]
    assert upload["content_type"] == "application/x-ipynb+json"
    assert upload["bytes"] > 3_000_000
    finish = raw_finish(sidecar)
    assert finish["state"] == "succeeded"
    assert finish["result"] == {"bytes": upload["bytes"], "sha256": upload["sha256"]}
    nb = nbformat.reads(sidecar.result.decode("utf-8"), as_version=4)
    nbformat.validate(nb)
    texts = [o["text"] for o in nb.cells[0].outputs]
    assert "".join(texts) == "x" * 1_000_000 + "\n" + "y" * 2_000_000 + "\n"


def test_a_sidecar_without_the_upload_gets_the_notebook_in_the_finish(tmp_path):
    with FakeSidecar(BIG, result_route=False) as sidecar:
        code, log = run_runner(sidecar.url, tmp_path)
    assert code == 0, log
    assert sidecar.uploads == []
    finish = raw_finish(sidecar)
    assert finish["state"] == "succeeded"
    assert "result" not in finish
    assert finish["notebook"]["cells"][1]["outputs"][0]["text"] == "done\n"


def test_a_result_over_the_announced_limit_is_not_sent_and_fails_the_job(tmp_path):
    with FakeSidecar(BIG) as sidecar:
        sidecar.payload["max_result_bytes"] = 100_000
        code, log = run_runner(sidecar.url, tmp_path)
    assert code == 0, log
    assert sidecar.uploads == []
    finish = raw_finish(sidecar)
    assert finish["state"] == "failed"
    assert "limits.result_bytes (100000 bytes)" in finish["reason"]
    assert "notebook" not in finish and "result" not in finish
    logged = [e["message"] for e in sidecar.ordered_events() if e["type"] == "log"]
    assert any("limits.result_bytes" in m for m in logged)


def test_a_refused_upload_fails_the_job_with_the_sidecars_reason(tmp_path):
    message = "The executed notebook is larger than limits.result_bytes (10 bytes, 0.0 MB)."
    refusal = (413, "result_too_large", message)
    with FakeSidecar(BIG, result_refusal=refusal) as sidecar:
        code, log = run_runner(sidecar.url, tmp_path)
    assert code == 0, log
    assert len(sidecar.uploads) == 1  # refused is final: not retried
    finish = raw_finish(sidecar)
    assert finish["state"] == "failed"
    assert message in finish["reason"]


def test_upload_streams_the_file_without_reading_it_into_memory(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("pass")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="z" * 40_000_000)]
    nb.cells.append(cell)
    path = tmp_path / "result.ipynb"
    size = write_notebook(nb, str(path))
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    del nb, cell
    with FakeSidecar(make_notebook("pass")) as sidecar:
        client = SidecarClient(sidecar.url, JOB_ID, JOB_TOKEN)
        tracemalloc.start()
        answer = client.upload_result(str(path))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert json.loads(sidecar.result)["nbformat"] == 4
    assert answer == {"bytes": size, "sha256": expected}
    # Blocks of the file at a time, never the file whole (the fake sidecar, in this process
    # too, writes what it reads to a file block by block).
    assert peak < 8_000_000, (peak, size)
