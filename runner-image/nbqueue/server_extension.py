"""Jupyter Server extension: `GET <base_url>nbqueue/connection` -> the sidecar's URL and token.

Under JupyterHub with nbqueue deployed as a hub service (`NBQUEUE_HUB_SERVICE` set by
`c.Spawner.environment`), the answer is `{"mode": "hub", "url": "/services/<name>"}` instead.

The labextension talks to the sidecar directly; this handler only hands the logged-in user the
sidecar's address and user token. They come from `NBQUEUE_URL` / `NBQUEUE_TOKEN`, else from the
state file the sidecar writes at start. The file is re-read on every request because the
sidecar may start (or restart with a new port) after JupyterLab.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

SIDECAR_NOT_FOUND = {
    "error": {
        "code": "sidecar_not_found",
        "message": (
            "The nbqueue sidecar is not running: start it with `nbqueue serve` (or `make demo`)."
        ),
    }
}


def state_file_path(env: Mapping[str, str]) -> Path:
    """`${NBQUEUE_STATE_FILE:-${XDG_DATA_HOME:-~/.local/share}/nbqueue/server.json}`."""
    if env.get("NBQUEUE_STATE_FILE"):
        return Path(env["NBQUEUE_STATE_FILE"]).expanduser()
    data_home = env.get("XDG_DATA_HOME") or os.path.join("~", ".local", "share")
    return Path(data_home).expanduser() / "nbqueue" / "server.json"


def _process_gone(pid: object) -> bool:
    """True only when `pid` surely names no running process on this machine."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return False
    return False


def hub_connection(env: Mapping[str, str]) -> dict | None:
    """Hub mode: the sidecar is the JupyterHub service named by `NBQUEUE_HUB_SERVICE`.

    The answer carries no token: the labextension calls `/services/<name>` on the page's own
    origin with JupyterLab's hub token (PageConfig `token`), which the admin allowed for the
    service (`c.Spawner.oauth_client_allowed_scopes`, see docs/jupyterhub.md).
    """
    name = env.get("NBQUEUE_HUB_SERVICE")
    if not name:
        return None
    base = env.get("JUPYTERHUB_BASE_URL") or "/"
    return {"mode": "hub", "url": url_path_join(base, "services", name), "token": None}


def find_connection(env: Mapping[str, str]) -> dict | None:
    """The sidecar's `{"url", "token"}`, or None when no running sidecar is known."""
    hub = hub_connection(env)
    if hub is not None:
        return hub
    if env.get("NBQUEUE_URL") and env.get("NBQUEUE_TOKEN"):
        return {"url": env["NBQUEUE_URL"], "token": env["NBQUEUE_TOKEN"]}
    try:
        state = json.loads(state_file_path(env).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict):
        return None
    url, token = state.get("url"), state.get("token")
    if not (isinstance(url, str) and url and isinstance(token, str) and token):
        return None
    # A sidecar that died without cleaning up leaves its file behind.
    if _process_gone(state.get("pid")):
        return None
    return {"url": url, "token": token}


def browser_url(connection: dict, env: Mapping[str, str], base_url: str) -> dict:
    """The sidecar as the browser reaches it, when that differs from its own URL.

    `NBQUEUE_BROWSER_URL`: a URL, or a path under the Jupyter server's base URL, such as
    `proxy/8765` behind jupyter-server-proxy (Binder, where the browser reaches nothing but
    the Jupyter server).
    """
    target = env.get("NBQUEUE_BROWSER_URL")
    if not target or connection.get("mode") == "hub":
        return connection
    if "://" not in target:
        target = url_path_join(base_url, target)
    return {**connection, "url": target.rstrip("/")}


class ConnectionHandler(APIHandler):
    @web.authenticated
    def get(self) -> None:
        connection = find_connection(os.environ)
        if connection is not None:
            connection = browser_url(connection, os.environ, self.base_url)
        if connection is None:
            self.set_status(503)
            self.finish(json.dumps(SIDECAR_NOT_FOUND))
            return
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(connection))


def _load_jupyter_server_extension(serverapp) -> None:
    web_app = serverapp.web_app
    route = url_path_join(web_app.settings["base_url"], "nbqueue", "connection")
    web_app.add_handlers(".*$", [(route, ConnectionHandler)])
    # Working files: manifests, bundles and saving a job's files (nbqueue/files/handlers.py).
    from .files.handlers import handlers as file_handlers

    web_app.add_handlers(".*$", file_handlers(web_app.settings["base_url"]))
    serverapp.log.info("nbqueue: serving the sidecar connection at %s", route)


# Older name, still looked up by jupyter_server for extensions found through the config.
load_jupyter_server_extension = _load_jupyter_server_extension
