"""The test hub: deploy/jupyterhub/jupyterhub_config.py as it is, plus what is site-specific here.

Site-specific: a password login for the example users (DummyAuthenticator), single-user
servers as local processes (SimpleLocalProcessSpawner), fixed loopback ports and a scratch
folder. The harness (hubHarness.ts, ui-tests/hub/start-hub.sh) sets the environment below.

NBQUEUE_HUB_TMP       scratch folder (hub database, cookie secret, users' homes)
NBQUEUE_HUB_PORT      the proxy's public port (the hub's address for people)
NBQUEUE_HUB_PASSWORD  every test user's password
NBQUEUE_SERVICE_URL   where the sidecar listens (read by the example config)
NBQUEUE_SIDECAR_CONFIG, NBQUEUE_COMMAND  the sidecar's YAML and CLI (example config)
NBQUEUE_LAB_PORT      first single-user server port (alice; then bob, carol, admin)
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (injected by traitlets)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
TMP = Path(os.environ["NBQUEUE_HUB_TMP"])
PORT = int(os.environ.get("NBQUEUE_HUB_PORT", "18000"))
VENV_BIN = Path(sys.executable).parent

load_subconfig(str(REPO / "deploy" / "jupyterhub" / "jupyterhub_config.py"))  # noqa: F821

c.JupyterHub.bind_url = f"http://127.0.0.1:{PORT}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{PORT + 2}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 1}"
c.ConfigurableHTTPProxy.command = [str(REPO / "node_modules" / ".bin" / "configurable-http-proxy")]
c.JupyterHub.db_url = f"sqlite:///{TMP / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(TMP / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(TMP / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = os.environ["NBQUEUE_HUB_PASSWORD"]

c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(TMP / "home" / "{username}")
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# Containers and CI runners often run the tests as root.
c.Spawner.args = ["--allow-root"] if os.getuid() == 0 else []

# The nbqueue server extension and the freshly built labextension, without a pip install:
# the config folder of the repository, and a data folder holding a link to the build.
lab_data = TMP / "share" / "jupyter"
(lab_data / "labextensions").mkdir(parents=True, exist_ok=True)
link = lab_data / "labextensions" / "nbqueue-labextension"
if not link.exists():
    link.symlink_to(REPO / "labextension" / "lab-dist", target_is_directory=True)
c.Spawner.environment.update(
    {
        "JUPYTER_PATH": str(lab_data),
        "JUPYTER_CONFIG_PATH": str(REPO / "jupyter-config"),
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    }
)

# Single-user servers on known ports (18100 + n), not random ones.
LAB_PORT = int(os.environ.get("NBQUEUE_LAB_PORT", "18100"))
USERS = ["alice", "bob", "carol", "admin"]


def fixed_port(spawner):
    spawner.port = LAB_PORT + USERS.index(spawner.user.name)


c.Spawner.pre_spawn_hook = fixed_port
