"""The connection answer under JupyterHub (hub service) and behind jupyter-server-proxy.

The server tests set the variables a deployment sets (`c.Spawner.environment` under
JupyterHub, Binder's start script) before the in-process Jupyter server starts: the
extension's settings default to them, so no separate server process is needed.
"""

import json

import pytest

from nbqueue.connection import SidecarSettings, browser_url, find_connection


def test_hub_mode_names_the_service_and_no_token():
    env = {"NBQUEUE_HUB_SERVICE": "nbqueue", "NBQUEUE_URL": "http://x", "NBQUEUE_TOKEN": "t"}
    assert find_connection(SidecarSettings.from_env(env)) == {
        "mode": "hub",
        "url": "/services/nbqueue",
        "token": None,
    }
    env = {"NBQUEUE_HUB_SERVICE": "gpu-queue", "JUPYTERHUB_BASE_URL": "/jh/"}
    assert find_connection(SidecarSettings.from_env(env))["url"] == "/jh/services/gpu-queue"


def test_browser_url_is_a_path_under_jupyter_or_a_url():
    connection = {"url": "http://127.0.0.1:8765", "token": "t"}
    proxied = browser_url(connection, "proxy/8765", "/user/x/")
    assert proxied == {"url": "/user/x/proxy/8765", "token": "t"}
    full = browser_url(connection, "https://q.example/", "/")
    assert full["url"] == "https://q.example"
    assert browser_url(connection, "", "/") == connection
    hub = {"mode": "hub", "url": "/services/nbqueue", "token": None}
    assert browser_url(hub, "proxy/1", "/") == hub


async def connection(jp_fetch) -> dict:
    answer = await jp_fetch("nbqueue", "connection")
    assert answer.code == 200
    return json.loads(answer.body)


@pytest.mark.parametrize(
    "sidecar_env",
    [{"NBQUEUE_HUB_SERVICE": "gpu-queue", "JUPYTERHUB_BASE_URL": "/jh/", "NBQUEUE_TOKEN": "t"}],
)
async def test_single_user_server_in_hub_mode(jp_fetch):
    assert await connection(jp_fetch) == {
        "mode": "hub",
        "url": "/jh/services/gpu-queue",
        "token": None,
    }


@pytest.mark.parametrize(
    "sidecar_env",
    [
        {
            "NBQUEUE_URL": "http://127.0.0.1:8765",
            "NBQUEUE_TOKEN": "t",
            "NBQUEUE_BROWSER_URL": "proxy/8765",
        }
    ],
)
async def test_behind_jupyter_server_proxy(jp_fetch):
    # jp_base_url is /base/: the path is under the Jupyter server's base URL.
    assert await connection(jp_fetch) == {"url": "/base/proxy/8765", "token": "t"}


@pytest.mark.parametrize("nbqueue_config", [{"hub_service": "configured"}])
async def test_hub_service_from_the_configuration(jp_fetch):
    assert (await connection(jp_fetch))["url"] == "/services/configured"
