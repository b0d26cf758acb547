"""nbqueue.checkpoint with a real runner and a real ipykernel: save a file and a folder, latest(),
a restored checkpoint in a new run of the same job, on_preempt on SIGTERM, and outside a job.
The sidecar is the fake one of conftest with the checkpoint routes of docs/protocol.md."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import threading
import urllib.parse
import warnings

import nbformat
import pytest

from conftest import JOB_ID, RUNNER_IMAGE, FakeSidecar, run_runner, start_runner, wait_for


class CheckpointSidecar(FakeSidecar):
    """The fake sidecar, with checkpoints kept in memory (the real ones: server/test)."""

    def __init__(self, notebook, max_bytes=10 * 1024 * 1024, preempt_seconds=20, **kw):
        super().__init__(notebook, **kw)
        self.checkpoints: list[dict] = []  # {"seq", "name", "kind", "bytes", "data"}
        self.max_bytes = max_bytes
        self.preempt_seconds = preempt_seconds
        self.stored = threading.Event()

    def describe(self, checkpoint: dict) -> dict:
        return {k: v for k, v in checkpoint.items() if k != "data"}

    def _handler_class(self):
        base_handler = super()._handler_class()
        sidecar = self
        base = f"/api/runner/jobs/{JOB_ID}/checkpoints"

        class Handler(base_handler):
            def do_GET(self):
                if self.path == base and self._authorized():
                    latest = sidecar.checkpoints[-1] if sidecar.checkpoints else None
                    self._answer(
                        200,
                        {
                            "latest": sidecar.describe(latest) if latest else None,
                            "max_bytes": sidecar.max_bytes,
                            "preempt_seconds": sidecar.preempt_seconds,
                        },
                    )
                elif self.path.startswith(base + "/") and self._authorized():
                    seq = int(self.path.rsplit("/", 1)[1])
                    data = next(c["data"] for c in sidecar.checkpoints if c["seq"] == seq)
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    super().do_GET()

            def do_POST(self):
                url = urllib.parse.urlsplit(self.path)
                if url.path != base:
                    return super().do_POST()
                if not self._authorized():
                    return None
                query = dict(urllib.parse.parse_qsl(url.query))
                data = self.rfile.read(int(self.headers["Content-Length"]))
                checkpoint = {
                    "seq": len(sidecar.checkpoints) + 1,
                    "name": query["name"],
                    "kind": query["kind"],
                    "bytes": len(data),
                    "files": 1,
                    "created_at": "2026-11-30T00:00:00.000Z",
                    "type": self.headers["Content-Type"],
                    "data": data,
                }
                sidecar.checkpoints.append(checkpoint)
                sidecar.stored.set()
                self._answer(201, sidecar.describe(checkpoint))
                return None

        return Handler


def write_notebook(path, *sources: str) -> dict:
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


def cell_text(finish: dict, index: int) -> str:
    return "".join(
        o.get("text", "") + json.dumps(o.get("evalue", ""))
        for o in finish["notebook"]["cells"][index]["outputs"]
    )


def test_save_a_file_and_a_folder_and_latest(tmp_path):
    notebook = write_notebook(
        tmp_path / "train.ipynb",
        "import nbqueue, os\nprint('first:', nbqueue.checkpoint.latest())",
        "with open('model.pt', 'wb') as f:\n"
        "    f.write(bytes(range(256)) * 40)\n"
        "path = nbqueue.checkpoint.save('model.pt')\n"
        "print('file:', path == os.path.abspath('model.pt'), nbqueue.checkpoint.latest() == path)",
        "os.makedirs('ckpt/sub', exist_ok=True)\n"
        "open('ckpt/step.txt', 'w').write('7')\n"
        "open('ckpt/sub/w.bin', 'wb').write(b'w' * 3000)\n"
        "print('folder:', nbqueue.checkpoint.save('ckpt') == nbqueue.checkpoint.latest())",
        "open('big.bin', 'wb').write(b'x' * 2_000_000)\n"
        "try:\n"
        "    nbqueue.checkpoint.save('big.bin')\n"
        "except nbqueue.checkpoint.CheckpointError as error:\n"
        "    print('refused:', error)\n"
        "try:\n"
        "    nbqueue.checkpoint.save('missing.pt')\n"
        "except nbqueue.checkpoint.CheckpointError as error:\n"
        "    print('missing:', error)",
    )
    with CheckpointSidecar(notebook, max_bytes=1_000_000) as sidecar:
        code, log = run_runner(sidecar.url, tmp_path)
        finish = sidecar.finishes[0]
    assert code == 0 and finish["state"] == "succeeded", log
    assert "first: None" in cell_text(finish, 0)
    assert "file: True True" in cell_text(finish, 1)
    assert "folder: True" in cell_text(finish, 2)
    refused = cell_text(finish, 3)
    assert "refused: nbqueue.checkpoint.save: The checkpoint" in refused
    assert "limits.checkpoint_bytes" in refused
    assert "missing: nbqueue.checkpoint.save: missing.pt does not exist" in refused

    first, second = sidecar.checkpoints  # the refused ones never reached the sidecar
    assert (first["name"], first["kind"], first["type"]) == (
        "model.pt",
        "file",
        "application/octet-stream",
    )
    assert first["data"] == bytes(range(256)) * 40
    assert (second["name"], second["kind"], second["type"]) == (
        "ckpt",
        "folder",
        "application/x-tar",
    )
    with tarfile.open(fileobj=io.BytesIO(second["data"])) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    assert files == {"step.txt": b"7", "sub/w.bin": b"w" * 3000}
    stored = [e["message"] for e in sidecar.ordered_events() if e["type"] == "log"]
    assert any(m.startswith("Checkpoint 1 stored: model.pt") for m in stored), stored


def test_a_restored_checkpoint_is_latest_in_the_next_run(tmp_path):
    resume = (
        "import nbqueue, os\n"
        "path = nbqueue.checkpoint.latest()\n"
        "print('restored:', os.path.relpath(path), open(os.path.join(path, 'step.txt')).read())"
    )
    notebook = write_notebook(tmp_path / "train.ipynb", resume)
    folder = io.BytesIO()
    with tarfile.open(fileobj=folder, mode="w") as tar:
        info = tarfile.TarInfo("step.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"4"))
    with CheckpointSidecar(notebook) as sidecar:
        sidecar.checkpoints.append(
            {
                "seq": 3,
                "name": "state",
                "kind": "folder",
                "bytes": len(folder.getvalue()),
                "files": 1,
                "created_at": "2026-11-30T00:00:00.000Z",
                "data": folder.getvalue(),
            }
        )
        code, log = run_runner(sidecar.url, tmp_path)
        finish = sidecar.finishes[0]
    assert code == 0 and finish["state"] == "succeeded", log
    restored = os.path.join(".nbqueue", "checkpoints", JOB_ID, "state")
    assert f"restored: {restored} 4" in cell_text(finish, 0)
    # The restored copy is the runner's: gone once the job ended.
    assert not (tmp_path / ".nbqueue").exists()


def test_on_preempt_saves_a_last_checkpoint_on_sigterm(tmp_path):
    notebook = write_notebook(
        tmp_path / "train.ipynb",
        "import nbqueue, time\n"
        "step = 0\n"
        "@nbqueue.checkpoint.on_preempt\n"
        "def last():\n"
        "    open('last.txt', 'w').write(f'preempted at {step}')\n"
        "    nbqueue.checkpoint.save('last.txt')\n"
        "for step in range(1000):\n"
        "    if step == 3:\n"
        "        print('at step 3', flush=True)\n"
        "    time.sleep(0.05)",
    )
    with CheckpointSidecar(notebook) as sidecar:
        process = start_runner(sidecar.url, tmp_path)
        try:
            wait_for(
                lambda: sidecar.has_event(
                    lambda e: e["type"] == "output" and "at step 3" in e["output"].get("text", "")
                ),
                what="step 3",
            )
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
            log = process.communicate()[0]
        finish = sidecar.finishes[0]
    assert finish["state"] == "cancelled", log
    [checkpoint] = sidecar.checkpoints
    assert checkpoint["name"] == "last.txt"
    step = int(checkpoint["data"].decode().removeprefix("preempted at "))
    assert step >= 3, checkpoint["data"]
    messages = [e.get("message", "") for e in sidecar.ordered_events() if e["type"] == "log"]
    assert any("running the notebook's on_preempt callbacks" in m for m in messages), messages


def test_sigterm_without_callbacks_cancels_as_before(tmp_path):
    notebook = write_notebook(
        tmp_path / "train.ipynb",
        "import time\nprint('sleeping', flush=True)\ntime.sleep(60)",
    )
    with CheckpointSidecar(notebook) as sidecar:
        process = start_runner(sidecar.url, tmp_path)
        try:
            wait_for(
                lambda: sidecar.has_event(
                    lambda e: e["type"] == "output" and "sleeping" in e["output"].get("text", "")
                ),
                what="the sleeping cell",
            )
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
            log = process.communicate()[0]
    assert sidecar.finishes[0]["state"] == "cancelled", log
    assert sidecar.checkpoints == []


def test_outside_a_job_save_and_on_preempt_warn_once_and_store_nothing(tmp_path):
    (tmp_path / "m.pt").write_bytes(b"m")
    script = (
        "import warnings, nbqueue\n"
        "warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    a = nbqueue.checkpoint.save('m.pt')\n"
        "    nbqueue.checkpoint.save('m.pt')\n"
        "    nbqueue.checkpoint.on_preempt(lambda: None)\n"
        "latest = nbqueue.checkpoint.latest()\n"
        "print(len(seen), seen[0].category.__name__, a.endswith('m.pt'), latest)\n"
        "print(seen[0].message)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBQUEUE_")}
    env["PYTHONPATH"] = str(RUNNER_IMAGE)
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()
    assert first == "1 CheckpointWarning True None"
    assert "not running as an nbqueue job" in second


def test_on_preempt_takes_a_function():
    from nbqueue import checkpoint

    with pytest.raises(TypeError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checkpoint.on_preempt("not callable")


def test_a_checkpoint_that_cannot_be_restored_fails_the_job_before_any_cell(tmp_path):
    notebook = write_notebook(tmp_path / "train.ipynb", "print('ran')")
    with CheckpointSidecar(notebook) as sidecar:
        sidecar.checkpoints.append(
            {
                "seq": 1,
                "name": "state",
                "kind": "folder",
                "bytes": 4,
                "files": 1,
                "created_at": "2026-11-30T00:00:00.000Z",
                "data": b"junk",
            }
        )
        code, log = run_runner(sidecar.url, tmp_path)
        finish = sidecar.finishes[0]
    assert code == 0, log
    assert finish["state"] == "failed"
    assert finish["reason"].startswith("The job's checkpoint 1 (state) could not be restored:")
    assert finish["notebook"]["cells"][0]["outputs"] == []
