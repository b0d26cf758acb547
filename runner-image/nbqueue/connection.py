"""Where the nbqueue sidecar is, as the Jupyter server extension tells JupyterLab.

`SidecarSettings` holds what the extension was configured with (its traitlets, whose defaults
come from the environment: `SidecarSettings.from_env`). `find_connection` turns them into the
sidecar's `{"url", "token"}`: the configured URL and token, else the state file the sidecar
writes at start, re-read on every call because the sidecar may start (or restart with a new
port) after JupyterLab. Under JupyterHub with nbqueue deployed as a hub service, the answer is
`{"mode": "hub", "url": "/services/<name>", "token": None}` instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jupyter_server.utils import url_path_join

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


@dataclass(frozen=True)
class SidecarSettings:
    """How the extension finds the sidecar; empty strings mean "not set"."""

    url: str = ""
    token: str = ""
    state_file: str = ""
    hub_service: str = ""
    hub_base_url: str = "/"
    browser_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SidecarSettings:
        """The settings the environment gives (the extension's trait defaults)."""
        return cls(
            url=env.get("NBQUEUE_URL", ""),
            token=env.get("NBQUEUE_TOKEN", ""),
            state_file=str(state_file_path(env)),
            hub_service=env.get("NBQUEUE_HUB_SERVICE", ""),
            hub_base_url=env.get("JUPYTERHUB_BASE_URL") or "/",
            browser_url=env.get("NBQUEUE_BROWSER_URL", ""),
        )


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


def hub_connection(settings: SidecarSettings) -> dict | None:
    """Hub mode: the sidecar is the JupyterHub service named `settings.hub_service`.

    The answer carries no token: the labextension calls `/services/<name>` on the page's own
    origin with JupyterLab's hub token (PageConfig `token`), which the admin allowed for the
    service (`c.Spawner.oauth_client_allowed_scopes`, see docs/jupyterhub.md).
    """
    if not settings.hub_service:
        return None
    url = url_path_join(settings.hub_base_url or "/", "services", settings.hub_service)
    return {"mode": "hub", "url": url, "token": None}


def read_state_file(path: str) -> dict | None:
    """The `{"url", "token"}` of the running sidecar that wrote `path`, if any."""
    try:
        state = json.loads(Path(path).read_text(encoding="utf-8"))
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


def find_connection(settings: SidecarSettings) -> dict | None:
    """The sidecar's `{"url", "token"}`, or None when no running sidecar is known."""
    hub = hub_connection(settings)
    if hub is not None:
        return hub
    if settings.url and settings.token:
        return {"url": settings.url, "token": settings.token}
    if not settings.state_file:
        return None
    return read_state_file(settings.state_file)


def browser_url(connection: dict, target: str, base_url: str) -> dict:
    """The sidecar as the browser reaches it, when that differs from its own URL.

    `target` (`NbqueueExtension.browser_url`): a URL, or a path under the Jupyter server's base
    URL, such as `proxy/8765` behind jupyter-server-proxy (Binder, where the browser reaches
    nothing but the Jupyter server).
    """
    if not target or connection.get("mode") == "hub":
        return connection
    if "://" not in target:
        target = url_path_join(base_url, target)
    return {**connection, "url": target.rstrip("/")}
