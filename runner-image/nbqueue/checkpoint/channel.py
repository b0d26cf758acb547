"""The kernel <-> runner channel of checkpoints: one JSON line each way over a Unix socket.

The job token stays in the runner (the kernel never sees it), so the kernel asks its runner to
store a checkpoint, and waits for the answer: a request and its reply, which the one-way
display messages of `nbqueue.log_metric` cannot carry, and which must also work from a signal
handler while a cell runs. The runner listens on a socket in a folder of its own (0700) and
gives the kernel its path as `NBQUEUE_CHECKPOINT_SOCKET`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
from typing import Callable

SOCKET_ENV = "NBQUEUE_CHECKPOINT_SOCKET"
RESTORED_ENV = "NBQUEUE_CHECKPOINT_RESTORED"
MAX_LINE = 64 * 1024


class ChannelError(Exception):
    """The runner could not be asked (it is gone, or answered nothing)."""


def request(path: str, message: dict, timeout: float | None = None) -> dict:
    """Sends `message` to the runner at `path` and answers its reply."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(json.dumps(message).encode("utf-8") + b"\n")
            with sock.makefile("rb") as answer:
                line = answer.readline(MAX_LINE)
    except OSError as error:
        raise ChannelError(f"the job's runner could not be reached ({error})") from None
    if not line:
        raise ChannelError("the job's runner closed the connection without answering")
    return json.loads(line)


class ChannelServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Answers each connection's one request with `handle(message) -> reply`, each in its own
    thread (a save may take minutes; the preemption messages must not wait for it)."""

    daemon_threads = True

    def __init__(self, path: str, handle: Callable[[dict], dict]):
        self.handle_message = handle

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                line = self.rfile.readline(MAX_LINE)
                if not line:
                    return
                try:
                    message = json.loads(line)
                    reply = self.server.handle_message(message)  # type: ignore[attr-defined]
                except Exception as error:  # a reply in every case: the kernel is waiting
                    reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
                with contextlib.suppress(OSError):  # the kernel went away
                    self.wfile.write(json.dumps(reply).encode("utf-8") + b"\n")

        super().__init__(path, Handler)
