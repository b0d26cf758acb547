"""Jupyter server configuration for the nbqueue Galata tests.

Like Galata's template, plus the nbqueue labextension straight from the build
folder (``labextension/lab-dist``), so the tests need no pip install of the
``nbqueue`` package for the frontend part.
"""

import os
from pathlib import Path
from tempfile import mkdtemp

import jupyterlab
from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 (c is injected by traitlets)

HERE = Path(__file__).resolve().parent
LAB_DIST = HERE.parent / "labextension" / "lab-dist"

# The root folder is the fresh copy of examples/ that start-servers.sh made.
if os.environ.get("NBQUEUE_UI_TESTS_ROOT"):
    c.ServerApp.root_dir = os.environ["NBQUEUE_UI_TESTS_ROOT"]  # noqa: F821

# Containers and CI runners often run the tests as root.
c.ServerApp.allow_root = True  # noqa: F821

if os.environ.get("NBQUEUE_UI_TESTS_PORT"):
    c.ServerApp.port = int(os.environ["NBQUEUE_UI_TESTS_PORT"])  # noqa: F821

# A labextensions folder holding only a link named after the package, so
# JupyterLab loads the freshly built extension as a prebuilt one.
extensions_dir = Path(mkdtemp(prefix="labextensions-", dir=os.environ.get("NBQUEUE_UI_TESTS_TMP")))
(extensions_dir / "nbqueue-labextension").symlink_to(LAB_DIST, target_is_directory=True)

c.LabApp.extra_labextensions_path = [  # noqa: F821
    str(extensions_dir),
    # Galata's helper extension (window.galata), which configure_jupyter_server
    # registered on LabServerApp; LabApp's own setting would hide it.
    str(Path(jupyterlab.__file__).parent / "galata"),
]

# The nbqueue server extension (GET /nbqueue/connection) hands the sidecar's URL
# and token to the frontend; it is found on PYTHONPATH when not pip-installed.
c.ServerApp.jpserver_extensions.update({"nbqueue": True})  # noqa: F821
