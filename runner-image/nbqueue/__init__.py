"""nbqueue: run the open notebook as a job on a GPU queue, with outputs streamed back live.

This Python package holds the kernel-side runner (`python -m nbqueue.runner`), the Jupyter
server extension that tells JupyterLab where the nbqueue sidecar listens, and the in-notebook
metrics API (`nbqueue.log_metric`, `nbqueue.log_metrics`, see `nbqueue.metrics`), the
pipeline outputs (`nbqueue.output`, see `nbqueue.outputs`) and checkpoints
(`nbqueue.checkpoint.save`, `.latest`, `.on_preempt`, see `nbqueue.checkpoint`).
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    # Imported on first use, so the runner and the server extension don't load the metrics
    # machinery (or IPython) they never use.
    if name in ("log_metric", "log_metrics"):
        from . import metrics

        return getattr(metrics, name)
    if name == "checkpoint":
        import importlib

        return importlib.import_module(".checkpoint", __name__)
    if name == "output":
        from .outputs import output

        return output
    raise AttributeError(f"module 'nbqueue' has no attribute {name!r}")


def _jupyter_server_extension_points():
    # Imported here, not at the top: the runner imports this package on the kernel's
    # interpreter, which need not have jupyter_server.
    from .server_extension import NbqueueExtension

    return [{"module": "nbqueue", "app": NbqueueExtension}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "nbqueue-labextension"}]
