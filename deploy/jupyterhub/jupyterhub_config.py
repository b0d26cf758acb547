"""JupyterHub with nbqueue: one sidecar for everyone, run by the hub as a service.

`jupyterhub -f deploy/jupyterhub/jupyterhub_config.py` runs this file as it is; nbqueue's own
integration tests (server/test/hub/) load it too, adding only what is site-specific there
(authenticator, spawner, ports, scratch folders), so this example cannot rot.

What nbqueue needs from the hub (docs/jupyterhub.md explains each):

- the `nbqueue` service, with a command (the hub starts and restarts it) and a URL (the
  hub's proxy sends /services/nbqueue/ there);
- users allowed to reach it (`access:services!service=nbqueue`, here in the default `user`
  role), and the service allowed to read who is an admin (`read:users:name`, groups);
- single-user servers whose page token may be used for nbqueue
  (`c.Spawner.oauth_client_allowed_scopes`), so JupyterLab can call the service.

Settings that differ between sites come from the environment, with the defaults below:
NBQUEUE_SERVICE_URL (where the sidecar listens), NBQUEUE_SIDECAR_CONFIG (its YAML file,
default: nbqueue.yaml next to this file), NBQUEUE_COMMAND (the `nbqueue` CLI).
"""

import os
import shlex
from pathlib import Path

c = get_config()  # noqa: F821 (injected by traitlets)

HERE = Path(__file__).resolve().parent
SERVICE = "nbqueue"
SERVICE_URL = os.environ.get("NBQUEUE_SERVICE_URL", "http://127.0.0.1:10101")
SIDECAR_CONFIG = os.environ.get("NBQUEUE_SIDECAR_CONFIG", str(HERE / "nbqueue.yaml"))
COMMAND = shlex.split(os.environ.get("NBQUEUE_COMMAND", "nbqueue"))

# ---- the sidecar as a hub-managed service ---------------------------------------------------
c.JupyterHub.services = [
    {
        "name": SERVICE,
        "url": SERVICE_URL,
        "command": [*COMMAND, "serve", "--config", SIDECAR_CONFIG],
        # Users already trust the hub; no "authorize nbqueue?" page on a download link.
        "oauth_no_confirm": True,
        "display": False,
    }
]

# ---- roles ----------------------------------------------------------------------------------
c.JupyterHub.load_roles = [
    {
        # Every user may use nbqueue (and sees only their own jobs there).
        "name": "user",
        "scopes": ["self", f"access:services!service={SERVICE}"],
    },
    {
        # The service reads a user's admin flag and groups (for auth.hub.admin_groups).
        "name": "nbqueue-service",
        "scopes": ["read:users:name", "read:users:groups"],
        "services": [SERVICE],
    },
]

# Example users: replace with your authenticator's. Hub admins manage every nbqueue job; so
# do members of the group named in nbqueue.yaml (auth.hub.admin_groups).
c.Authenticator.admin_users = {"admin"}
c.Authenticator.allowed_users = {"alice", "bob", "carol"}
c.JupyterHub.load_groups = {"nbqueue-admins": {"users": ["carol"]}}

# ---- single-user servers --------------------------------------------------------------------
# The token JupyterLab gets in its page config may be used for nbqueue: the labextension
# sends it to /services/nbqueue/. Without this the service answers 401 to JupyterLab.
c.Spawner.oauth_client_allowed_scopes = [f"access:services!service={SERVICE}"]
# Tells nbqueue's Jupyter server extension which service to hand to the labextension.
c.Spawner.environment = {"NBQUEUE_HUB_SERVICE": SERVICE}
c.Spawner.default_url = "/lab"
