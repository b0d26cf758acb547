"""The Jupyter server extension, in a real Jupyter server (pytest-jupyter), and its
connection lookup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from traitlets.config import Config

from nbqueue.connection import SidecarSettings, find_connection, state_file_path
from nbqueue.server_extension import NbqueueExtension

from conftest import SIDECAR_ENV


async def get(jp_fetch, **kw) -> tuple[int, dict]:
    answer = await jp_fetch("nbqueue", "connection", raise_error=False, **kw)
    try:
        return answer.code, json.loads(answer.body)
    except ValueError:
        return answer.code, {}


async def test_503_with_message_when_no_sidecar_is_known(jp_fetch, state_file):
    state_file.unlink(missing_ok=True)
    status, body = await get(jp_fetch)
    assert status == 503
    assert body == {
        "error": {
            "code": "sidecar_not_found",
            "message": "The nbqueue sidecar is not running: start it with `nbqueue serve` "
            "(or `make demo`).",
        }
    }


async def test_state_file_is_read_on_each_request(jp_fetch, state_file):
    state: Path = state_file
    state.write_text(
        json.dumps({"url": "http://127.0.0.1:8765", "token": "abc", "pid": os.getpid()})
    )
    assert await get(jp_fetch) == (200, {"url": "http://127.0.0.1:8765", "token": "abc"})
    state.write_text(
        json.dumps({"url": "http://127.0.0.1:9999", "token": "new", "pid": os.getpid()})
    )
    assert await get(jp_fetch) == (200, {"url": "http://127.0.0.1:9999", "token": "new"})
    state.unlink()
    assert (await get(jp_fetch))[0] == 503


async def test_requires_jupyter_authentication(jp_serverapp, http_server_client, jp_base_url):
    # jp_fetch always sends the server's token: this request goes without it.
    answer = await http_server_client.fetch(jp_base_url + "nbqueue/connection", raise_error=False)
    assert answer.code == 403
    assert b'"token"' not in answer.body


@pytest.mark.parametrize(
    "nbqueue_config", [{"sidecar_url": "http://configured:1", "sidecar_token": "c"}]
)
async def test_configured_sidecar_wins_over_the_state_file(jp_fetch, state_file):
    state_file.write_text(json.dumps({"url": "http://file", "token": "f", "pid": os.getpid()}))
    assert await get(jp_fetch) == (200, {"url": "http://configured:1", "token": "c"})


def test_settings_default_to_the_environment_and_config_wins(monkeypatch, tmp_path):
    for name in (*SIDECAR_ENV, "JUPYTERHUB_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NBQUEUE_URL", "http://env")
    monkeypatch.setenv("NBQUEUE_TOKEN", "e")
    monkeypatch.setenv("NBQUEUE_STATE_FILE", str(tmp_path / "s.json"))
    assert NbqueueExtension().sidecar_settings() == SidecarSettings(
        url="http://env", token="e", state_file=str(tmp_path / "s.json")
    )
    configured = NbqueueExtension(
        config=Config({"NbqueueExtension": {"sidecar_url": "http://c", "state_file": "~/s"}})
    ).sidecar_settings()
    assert (configured.url, configured.token) == ("http://c", "e")
    assert configured.state_file == os.path.expanduser("~/s")


# -- the lookup itself --------------------------------------------------------------------


def test_environment_wins_over_state_file(tmp_path):
    state = tmp_path / "s.json"
    state.write_text(json.dumps({"url": "http://file", "token": "f", "pid": os.getpid()}))
    env = {"NBQUEUE_URL": "http://env", "NBQUEUE_TOKEN": "e", "NBQUEUE_STATE_FILE": str(state)}
    assert find_connection(SidecarSettings.from_env(env)) == {"url": "http://env", "token": "e"}
    assert find_connection(SidecarSettings.from_env({"NBQUEUE_STATE_FILE": str(state)})) == {
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
    assert find_connection(SidecarSettings.from_env(env)) is None  # missing
    state.write_text("{not json")
    assert find_connection(SidecarSettings.from_env(env)) is None
    state.write_text(json.dumps({"url": "http://x"}))
    assert find_connection(SidecarSettings.from_env(env)) is None  # no token
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    state.write_text(json.dumps({"url": "http://x", "token": "t", "pid": dead.pid}))
    assert find_connection(SidecarSettings.from_env(env)) is None  # its sidecar is gone
