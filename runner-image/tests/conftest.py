"""Shared test parts: a fake sidecar (runner API only), notebook builders, runner launcher.

The fake sidecar is a unit-test double of the runner API in docs/protocol.md; the real
sidecar's integration test lives in server/.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

# jp_fetch, jp_serverapp, jp_server_config...: a real Jupyter server in the test's own process.
pytest_plugins = ["pytest_jupyter.jupyter_server"]

RUNNER_IMAGE = Path(__file__).resolve().parents[1]
REPO = RUNNER_IMAGE.parent
SCHEMA_PATH = REPO / "server" / "schema" / "events.schema.json"

if str(RUNNER_IMAGE) not in sys.path:
    sys.path.insert(0, str(RUNNER_IMAGE))

JOB_ID = "j-test000001"
JOB_TOKEN = "job-secret-token"


def wait_for(condition, timeout: float = 20.0, interval: float = 0.02, what: str = "condition"):
    """Poll `condition` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def make_notebook(*cells) -> dict:
    """cells: source strings (code) or (source, {"tags": [...], "type": "markdown"})."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for i, spec in enumerate(cells):
        source, options = (spec, {}) if isinstance(spec, str) else spec
        if options.get("type") == "markdown":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(source)
        cell["id"] = options.get("id", f"cell-{i}")
        if options.get("tags"):
            cell.metadata["tags"] = list(options["tags"])
        nb.cells.append(cell)
    return json.loads(json.dumps(nb))


class FakeSidecar:
    """Serves one job. `failures` is a list of modes ("503", "close", "400", "drop": answered 200
    with nothing stored, as a lost commit) applied in order to the first event POSTs;
    `cancel_when(events)` decides when an events answer says cancel; an events body over
    `max_body` bytes is answered 413, as the sidecar's body limit does."""

    def __init__(
        self,
        notebook,
        parameters=None,
        grace=10,
        failures=(),
        cancel_when=None,
        result_route=True,
        result_refusal=None,
    ):
        self.payload = {
            "job": {"id": JOB_ID, "name": "test", "state": "starting"},
            "notebook": notebook,
            "parameters": parameters or {},
            "kernel": {"name": "python3", "python": sys.executable},
            "cancel_grace_seconds": grace,
        }
        if result_route:
            self.payload["max_result_bytes"] = 1 << 30
        self.failures = list(failures)
        self.max_body: int | None = None
        self.dropped: list[list[int]] = []  # seqs of the batches answered without storing
        self.cancel_when = cancel_when
        self.lock = threading.RLock()
        self.events: dict[int, dict] = {}
        self.arrived: dict[int, float] = {}  # seq -> time.time() when first stored
        self.received: list[list[int]] = []  # seqs of every events POST that was answered 200
        self.attempts = 0
        self.finishes: list[dict] = []
        # PUT …/result: absent as on a sidecar before it (404) when `result_route` is false;
        # `result_refusal` (status, code, message) answers every upload after reading it.
        self.result_route = result_route
        self.result_refusal = result_refusal
        self.uploads: list[dict] = []  # {"bytes", "sha256", "content_type", "chunked"}
        self.result_file: str | None = None  # the last accepted upload, on disk
        self._uploads_dir = tempfile.TemporaryDirectory(prefix="nbq-fake-sidecar-")
        self.finished = threading.Event()
        self.bad_auth = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def result(self) -> bytes | None:
        """The last accepted result upload's bytes."""
        if not self.result_file:
            return None
        with open(self.result_file, "rb") as f:
            return f.read()

    def ordered_events(self) -> list[dict]:
        with self.lock:
            return [self.events[seq] for seq in sorted(self.events)]

    def last_seq(self) -> int:
        seq = 0
        while seq + 1 in self.events:
            seq += 1
        return seq

    def has_event(self, predicate) -> bool:
        return any(predicate(e) for e in self.ordered_events())

    def _handler_class(self):
        sidecar = self
        base = f"/api/runner/jobs/{JOB_ID}"

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, status, payload):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def _authorized(self):
                if self.headers.get("Authorization") == f"Bearer {JOB_TOKEN}":
                    return True
                sidecar.bad_auth += 1
                self._answer(401, {"error": {"code": "unauthorized", "message": "Bad token."}})
                return False

            def do_GET(self):
                if not self._authorized():
                    return
                if self.path == base:
                    self._answer(200, sidecar.payload)
                else:
                    self._answer(404, {"error": {"code": "not_found", "message": self.path}})

            def do_PUT(self):
                if not self._authorized():
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if self.path != base + "/result" or not sidecar.result_route:
                    self.rfile.read(length)
                    self._answer(404, {"error": {"code": "not_found", "message": self.path}})
                    return
                digest = hashlib.sha256()
                received = 0
                # Read as it streams, in blocks, into a file: the tests measure the runner's
                # memory in this same process.
                with tempfile.NamedTemporaryFile(
                    dir=sidecar._uploads_dir.name, delete=False, suffix=".ipynb"
                ) as out:
                    while received < length:
                        block = self.rfile.read(min(1 << 20, length - received))
                        if not block:
                            break
                        received += len(block)
                        digest.update(block)
                        out.write(block)
                upload = {
                    "bytes": received,
                    "sha256": digest.hexdigest(),
                    "content_type": self.headers.get("Content-Type"),
                }
                sidecar.uploads.append(upload)
                if sidecar.result_refusal:
                    status, code, message = sidecar.result_refusal
                    self._answer(status, {"error": {"code": code, "message": message}})
                    return
                if sidecar.result_file:
                    os.unlink(sidecar.result_file)
                sidecar.result_file = out.name
                self._answer(200, {"bytes": upload["bytes"], "sha256": upload["sha256"]})

            def do_POST(self):
                if not self._authorized():
                    return
                if self.path == base + "/events":
                    self._events()
                elif self.path == base + "/finish":
                    body = self._body()
                    if body.get("result") is not None:
                        # The tests read the executed notebook from the finish, as it came
                        # before the upload: the uploaded file it names, parsed.
                        assert (
                            body["result"]["sha256"] == hashlib.sha256(sidecar.result).hexdigest()
                        )
                        body["notebook"] = json.loads(sidecar.result)
                    with sidecar.lock:
                        sidecar.finishes.append(body)
                    sidecar.finished.set()
                    self._answer(200, {"ok": True})
                else:
                    self._answer(404, {"error": {"code": "not_found", "message": self.path}})

            def _events(self):
                with sidecar.lock:
                    sidecar.attempts += 1
                    failure = sidecar.failures.pop(0) if sidecar.failures else None
                if failure == "503":
                    self._body()
                    self._answer(503, {"error": {"code": "unavailable", "message": "later"}})
                    return
                if failure == "400":
                    self._body()
                    error = {"code": "invalid_event", "message": "Invalid event: test."}
                    self._answer(400, {"error": error})
                    return
                if failure == "close":
                    # Read the batch, store nothing, and drop the connection without an answer.
                    self._body()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if sidecar.max_body is not None and length > sidecar.max_body:
                    self.rfile.read(length)
                    error = {"code": "request_too_large", "message": "Too large."}
                    self._answer(413, {"error": error})
                    return
                batch = self._body()["events"]
                if failure == "drop":
                    with sidecar.lock:
                        sidecar.dropped.append([e["seq"] for e in batch])
                        last = sidecar.last_seq()
                    self._answer(200, {"accepted": len(batch), "last_seq": last, "cancel": False})
                    return
                with sidecar.lock:
                    now = time.time()
                    for event in batch:
                        sidecar.arrived.setdefault(event["seq"], now)
                        stored = sidecar.events.setdefault(event["seq"], event)
                        assert stored == event, "a resent seq changed content"
                    sidecar.received.append([e["seq"] for e in batch])
                    cancel = bool(sidecar.cancel_when and sidecar.cancel_when(sidecar))
                    last = sidecar.last_seq()
                self._answer(200, {"accepted": len(batch), "last_seq": last, "cancel": cancel})

        return Handler


def runner_env(url: str, **extra: str) -> dict:
    env = dict(os.environ)
    env.update(
        NBQUEUE_URL=url,
        NBQUEUE_JOB_ID=JOB_ID,
        NBQUEUE_JOB_TOKEN=JOB_TOKEN,
        PYTHONPATH=os.pathsep.join(filter(None, [str(RUNNER_IMAGE), env.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_runner(url: str, cwd: Path, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "nbqueue.runner"],
        cwd=str(cwd),
        env=runner_env(url, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_runner(url: str, cwd: Path, timeout: float = 40, **extra: str) -> tuple[int, str]:
    process = start_runner(url, cwd, **extra)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"runner did not exit within {timeout} s:\n{output}") from None
    return process.returncode, output


@pytest.fixture(scope="session")
def event_validator():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


# -- the Jupyter server extension (pytest-jupyter's jp_serverapp runs it in this process) ----

SIDECAR_ENV = ("NBQUEUE_URL", "NBQUEUE_TOKEN", "NBQUEUE_HUB_SERVICE", "NBQUEUE_BROWSER_URL")


@pytest.fixture
def sidecar_env() -> dict:
    """Environment the Jupyter server starts with (parametrize to set NBQUEUE_* variables)."""
    return {}


@pytest.fixture
def nbqueue_config() -> dict:
    """`c.NbqueueExtension` settings of the Jupyter server (parametrize or override)."""
    return {}


@pytest.fixture
def state_file(tmp_path, monkeypatch, sidecar_env):
    """The sidecar state file the extension reads ($NBQUEUE_STATE_FILE), not written yet."""
    for name in SIDECAR_ENV:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "nbqueue-state.json"
    monkeypatch.setenv("NBQUEUE_STATE_FILE", str(path))
    for name, value in sidecar_env.items():
        monkeypatch.setenv(name, value)
    return path


@pytest.fixture
def jp_server_config(state_file, nbqueue_config):
    # state_file first: the extension's settings default to the environment it sets.
    return Config(
        {
            "ServerApp": {"jpserver_extensions": {"nbqueue": True}},
            "NbqueueExtension": nbqueue_config,
        }
    )


@pytest.fixture
def jp_base_url() -> str:
    return "/base/"
