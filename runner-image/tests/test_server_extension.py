"""The Jupyter server extension, in a real `jupyter server`, and its connection lookup."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from nbqueue.server_extension import find_connection, state_file_path

from conftest import RUNNER_IMAGE, wait_for

TOKEN = "jupyter-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, token: str | None = TOKEN) -> tuple[int, dict]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, {}


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    home = tmp_path_factory.mktemp("jupyter-home")
    state = home / "nbqueue-state.json"
    port = free_port()
    env = dict(os.environ)
    for name in ("NBQUEUE_URL", "NBQUEUE_TOKEN"):
        env.pop(name, None)
    env.update(
        NBQUEUE_STATE_FILE=str(state),
        PYTHONPATH=os.pathsep.join(filter(None, [str(RUNNER_IMAGE), env.get("PYTHONPATH")])),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
    )
    process = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter_server",
            f"--port={port}", "--ip=127.0.0.1", "--no-browser",
            f"--IdentityProvider.token={TOKEN}",
            "--ServerApp.base_url=/base/",
            '--ServerApp.jpserver_extensions={"nbqueue": True}',
            f"--ServerApp.root_dir={home}",
            "--allow-root",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/base/"

    def up():
        assert process.poll() is None, process.communicate()[0]
        try:
            return get(base + "api/status")[0] == 200
        except OSError:
            return False

    try:
        wait_for(up, timeout=30, interval=0.1, what="jupyter server")
        yield {"url": base + "nbqueue/connection", "state": state}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        process.communicate()


def test_503_with_message_when_no_sidecar_is_known(jupyter):
    jupyter["state"].unlink(missing_ok=True)
    status, body = get(jupyter["url"])
    assert status == 503
    assert body == {
        "error": {
            "code": "sidecar_not_found",
            "message": "The nbqueue sidecar is not running: start it with `nbqueue serve` "
            "(or `make demo`).",
        }
    }


def test_state_file_is_read_on_each_request(jupyter):
    state: Path = jupyter["state"]
    state.write_text(
        json.dumps({"url": "http://127.0.0.1:8765", "token": "abc", "pid": os.getpid()})
    )
    assert get(jupyter["url"]) == (200, {"url": "http://127.0.0.1:8765", "token": "abc"})
    state.write_text(
        json.dumps({"url": "http://127.0.0.1:9999", "token": "new", "pid": os.getpid()})
    )
    assert get(jupyter["url"]) == (200, {"url": "http://127.0.0.1:9999", "token": "new"})
    state.unlink()
    assert get(jupyter["url"])[0] == 503


def test_requires_jupyter_authentication(jupyter):
    status, body = get(jupyter["url"], token=None)
    assert status == 403
    assert "token" not in body


# -- the lookup itself --------------------------------------------------------------------


def test_environment_wins_over_state_file(tmp_path):
    state = tmp_path / "s.json"
    state.write_text(json.dumps({"url": "http://file", "token": "f", "pid": os.getpid()}))
    env = {"NBQUEUE_URL": "http://env", "NBQUEUE_TOKEN": "e", "NBQUEUE_STATE_FILE": str(state)}
    assert find_connection(env) == {"url": "http://env", "token": "e"}
    assert find_connection({"NBQUEUE_STATE_FILE": str(state)}) == {
        "url": "http://file",
        "token": "f",
    }


def test_state_file_location(tmp_path):
    assert state_file_path({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "nbqueue" / "server.json"
    assert state_file_path({}) == Path("~/.local/share/nbqueue/server.json").expanduser()
    assert state_file_path({"NBQUEUE_STATE_FILE": "/x/y.json", "XDG_DATA_HOME": "/z"}) == Path(
        "/x/y.json"
    )


def test_unusable_state_files(tmp_path):
    state = tmp_path / "s.json"
    env = {"NBQUEUE_STATE_FILE": str(state)}
    assert find_connection(env) is None  # missing
    state.write_text("{not json")
    assert find_connection(env) is None
    state.write_text(json.dumps({"url": "http://x"}))
    assert find_connection(env) is None  # no token
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    state.write_text(json.dumps({"url": "http://x", "token": "t", "pid": dead.pid}))
    assert find_connection(env) is None  # its sidecar is gone
