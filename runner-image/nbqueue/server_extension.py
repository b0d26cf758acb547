"""Jupyter Server extension: tells JupyterLab where the nbqueue sidecar is, and handles the
working files a job takes and brings back (nbqueue/files/handlers.py).

`GET <base_url>nbqueue/connection` -> the sidecar's `{"url", "token"}` (or, under JupyterHub
with nbqueue as a hub service, `{"mode": "hub", "url": "/services/<name>"}`); 503
`sidecar_not_found` when no running sidecar is known. The labextension talks to the sidecar
directly; this handler only hands the logged-in user the sidecar's address and user token.

Configured like any Jupyter server extension (`c.NbqueueExtension.sidecar_url = ...` in
`jupyter_server_config.py`, or `--NbqueueExtension.sidecar_url=...`); every setting defaults to
the environment variable deployments set (`NBQUEUE_URL`, ...), see docs/configuration.md.
"""

from __future__ import annotations

import json
import os

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from tornado import web
from traitlets import Unicode, default

from .connection import SIDECAR_NOT_FOUND, SidecarSettings, browser_url, find_connection
from .files.handlers import handlers as file_handlers


class ConnectionHandler(APIHandler):
    def initialize(self, sidecar: SidecarSettings) -> None:
        self.sidecar = sidecar

    @web.authenticated
    def get(self) -> None:
        connection = find_connection(self.sidecar)
        if connection is None:
            self.set_status(503)
            self.finish(json.dumps(SIDECAR_NOT_FOUND))
            return
        connection = browser_url(connection, self.sidecar.browser_url, self.base_url)
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(connection))


def _from_env(field: str) -> str:
    return getattr(SidecarSettings.from_env(os.environ), field)


class NbqueueExtension(ExtensionApp):
    """The nbqueue server extension (`jpserver_extensions: {"nbqueue": true}`)."""

    name = "nbqueue"

    sidecar_url = Unicode(
        help="The sidecar's URL as this server reaches it (default: $NBQUEUE_URL). With "
        "sidecar_token, wins over the state file.",
    ).tag(config=True)

    sidecar_token = Unicode(
        help="The sidecar's user token (default: $NBQUEUE_TOKEN).",
    ).tag(config=True)

    state_file = Unicode(
        help="The state file the sidecar writes at start (`nbqueue serve --state-file`), "
        "re-read on every request (default: $NBQUEUE_STATE_FILE, else "
        "${XDG_DATA_HOME:-~/.local/share}/nbqueue/server.json).",
    ).tag(config=True)

    hub_service = Unicode(
        help="Under JupyterHub: the name of the hub service that is the sidecar; the browser "
        "then calls /services/<name> with its hub token (default: $NBQUEUE_HUB_SERVICE).",
    ).tag(config=True)

    hub_base_url = Unicode(
        help="JupyterHub's base URL, for hub_service (default: $JUPYTERHUB_BASE_URL, else /).",
    ).tag(config=True)

    browser_url = Unicode(
        help="The sidecar as the browser reaches it, when that differs from sidecar_url: a URL, "
        "or a path under this server's base URL such as proxy/8765 behind "
        "jupyter-server-proxy (default: $NBQUEUE_BROWSER_URL).",
    ).tag(config=True)

    @default("sidecar_url")
    def _default_sidecar_url(self) -> str:
        return _from_env("url")

    @default("sidecar_token")
    def _default_sidecar_token(self) -> str:
        return _from_env("token")

    @default("state_file")
    def _default_state_file(self) -> str:
        return _from_env("state_file")

    @default("hub_service")
    def _default_hub_service(self) -> str:
        return _from_env("hub_service")

    @default("hub_base_url")
    def _default_hub_base_url(self) -> str:
        return _from_env("hub_base_url")

    @default("browser_url")
    def _default_browser_url(self) -> str:
        return _from_env("browser_url")

    def sidecar_settings(self) -> SidecarSettings:
        return SidecarSettings(
            url=self.sidecar_url,
            token=self.sidecar_token,
            state_file=os.path.expanduser(self.state_file),
            hub_service=self.hub_service,
            hub_base_url=self.hub_base_url,
            browser_url=self.browser_url,
        )

    def initialize_handlers(self) -> None:
        sidecar = self.sidecar_settings()
        # ExtensionApp puts the server's base URL in front of each route.
        self.handlers.append(("nbqueue/connection", ConnectionHandler, {"sidecar": sidecar}))
        self.handlers.extend(file_handlers(sidecar))
        route = url_path_join(self.serverapp.base_url, "nbqueue", "connection")
        self.log.info("nbqueue: serving the sidecar connection at %s", route)
