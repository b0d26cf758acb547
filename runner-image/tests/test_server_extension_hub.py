"""The connection answer under JupyterHub (hub service) and behind jupyter-server-proxy."""

from nbqueue.server_extension import browser_url, find_connection


def test_hub_mode_names_the_service_and_no_token():
    env = {"NBQUEUE_HUB_SERVICE": "nbqueue", "NBQUEUE_URL": "http://x", "NBQUEUE_TOKEN": "t"}
    assert find_connection(env) == {"mode": "hub", "url": "/services/nbqueue", "token": None}
    env = {"NBQUEUE_HUB_SERVICE": "gpu-queue", "JUPYTERHUB_BASE_URL": "/jh/"}
    assert find_connection(env)["url"] == "/jh/services/gpu-queue"


def test_browser_url_is_a_path_under_jupyter_or_a_url():
    connection = {"url": "http://127.0.0.1:8765", "token": "t"}
    proxied = browser_url(connection, {"NBQUEUE_BROWSER_URL": "proxy/8765"}, "/user/x/")
    assert proxied == {"url": "/user/x/proxy/8765", "token": "t"}
    full = browser_url(connection, {"NBQUEUE_BROWSER_URL": "https://q.example/"}, "/")
    assert full["url"] == "https://q.example"
    assert browser_url(connection, {}, "/") == connection
    hub = {"mode": "hub", "url": "/services/nbqueue", "token": None}
    assert browser_url(hub, {"NBQUEUE_BROWSER_URL": "proxy/1"}, "/") == hub
