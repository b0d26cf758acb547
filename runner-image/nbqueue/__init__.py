"""nbqueue: run the open notebook as a job on a GPU queue, with outputs streamed back live.

This Python package holds the kernel-side runner (`python -m nbqueue.runner`) and the Jupyter
server extension that tells JupyterLab where the nbqueue sidecar listens.
"""

__version__ = "0.1.0"


def _jupyter_server_extension_points():
    return [{"module": "nbqueue.server_extension"}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "nbqueue-labextension"}]
