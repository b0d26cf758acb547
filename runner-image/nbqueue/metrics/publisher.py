"""How the logger reaches the frontend: display messages of the running IPython kernel."""

from __future__ import annotations

from typing import Protocol


class Publisher(Protocol):
    def parent(self) -> dict | None:
        """The parent header of the request running now (the cell), to tie later messages
        sent from another thread to that cell."""

    def display(self, data: dict, display_id: str | None, parent: dict | None, update: bool):
        """Send a display_data (or update_display_data) message with this bundle."""


class KernelPublisher:
    """Sends through ipykernel's display publisher session, with an explicit parent header, so
    the timer thread's messages belong to the cell that logged the points (nbclient and
    JupyterLab route outputs by parent). Skips ipykernel's json_clean walk: our data is JSON."""

    def __init__(self, display_pub):
        self._pub = display_pub

    def parent(self) -> dict | None:
        return dict(self._pub.parent_header or {})

    def display(self, data: dict, display_id: str | None, parent: dict | None, update: bool):
        content = {
            "data": data,
            "metadata": {},
            "transient": {"display_id": display_id} if display_id else {},
        }
        self._pub.session.send(
            self._pub.pub_socket,
            "update_display_data" if update else "display_data",
            content,
            parent=parent or self._pub.parent_header,
            ident=self._pub.topic,
        )


class IPythonPublisher:
    """Any other IPython frontend (terminal IPython): IPython's own display functions."""

    def parent(self) -> dict | None:
        return None

    def display(self, data: dict, display_id: str | None, parent: dict | None, update: bool):
        from IPython.display import display, update_display

        if update:
            update_display(data, raw=True, display_id=display_id)
        else:
            display(data, raw=True, display_id=display_id)


def publisher_for_this_process():
    """(publisher, shell) for the IPython shell running here, or (None, None) outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None, None
    shell = get_ipython()
    if shell is None:
        return None, None
    display_pub = getattr(shell, "display_pub", None)
    if getattr(display_pub, "session", None) is not None and hasattr(display_pub, "pub_socket"):
        return KernelPublisher(display_pub), shell
    return IPythonPublisher(), shell
