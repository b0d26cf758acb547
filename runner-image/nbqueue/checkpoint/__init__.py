"""`nbqueue.checkpoint`: save a job's progress so that the same job, run again (after a
preemption, an eviction, a restart), resumes from it. docs/checkpoints.md.

    import nbqueue
    path = nbqueue.checkpoint.latest()      # None on the first attempt
    ...
    torch.save(model.state_dict(), "model.pt")
    nbqueue.checkpoint.save("model.pt")      # returns once the sidecar stored it

Inside a job the kernel asks its runner, which holds the job token, to stream the file or
folder to the sidecar (`channel.py`). Outside a job (an interactive kernel) `save` and
`on_preempt` do nothing but warn once, and `latest()` is None.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import traceback
import warnings
from typing import Callable

from .channel import RESTORED_ENV, SOCKET_ENV, ChannelError, request


class CheckpointError(RuntimeError):
    """A checkpoint that was not stored, with what to do about it."""


class CheckpointWarning(UserWarning):
    """nbqueue.checkpoint is used outside a job: nothing is stored."""


_lock = threading.Lock()
_latest: str | None = None
_warned = False
_callbacks: list[Callable[[], object]] = []
_previous_handler: object = None
_installed = False


def _runner() -> str | None:
    """The runner's channel, inside a job only."""
    if not os.environ.get("NBQUEUE_JOB_ID"):
        return None
    return os.environ.get(SOCKET_ENV) or None


def _warn_once(what: str) -> None:
    global _warned
    with _lock:
        if _warned:
            return
        _warned = True
    warnings.warn(
        f"nbqueue.checkpoint.{what}: not running as an nbqueue job (or on a sidecar without "
        "checkpoints); nothing is stored. Inside a job it is.",
        CheckpointWarning,
        stacklevel=3,
    )


def save(path: str | os.PathLike) -> str:
    """Stores the file or folder at `path` (written by the notebook, e.g. with torch.save) as
    the job's newest checkpoint, and returns its absolute path once the sidecar has it. A
    folder travels as a tar, streamed. Raises CheckpointError when it was not stored."""
    global _latest
    full = os.path.abspath(os.fspath(path))
    if not os.path.exists(full):
        raise CheckpointError(
            f"nbqueue.checkpoint.save: {os.fspath(path)} does not exist; write the checkpoint "
            "first (e.g. torch.save(model.state_dict(), path)), then save that path."
        )
    runner = _runner()
    if runner is None:
        _warn_once("save")
        return full
    try:
        reply = request(runner, {"op": "save", "path": full})
    except ChannelError as error:
        raise CheckpointError(f"nbqueue.checkpoint.save: {error}; it was not stored.") from None
    if not reply.get("ok"):
        raise CheckpointError(f"nbqueue.checkpoint.save: {reply.get('error')}")
    with _lock:
        _latest = full
    return full


def latest() -> str | None:
    """The path of the newest checkpoint: the one saved last in this run, else the one the
    runner restored before the first cell (under .nbqueue/checkpoints/ in the job's folder),
    else None (the job's first attempt, or outside a job)."""
    if _runner() is None:
        return None
    with _lock:
        if _latest is not None:
            return _latest
    restored = os.environ.get(RESTORED_ENV)
    return restored if restored and os.path.exists(restored) else None


def on_preempt(callback: Callable[[], object]) -> Callable[[], object]:
    """Runs `callback()` when the job is stopped (SIGTERM to its runner: preemption, pod
    deletion, a cancel), while the current cell is still running, typically to save a last
    checkpoint; the runner waits for it (at most checkpoints.preempt_seconds) before it stops
    the kernel. Usable as a decorator. Call it from a cell (the kernel's main thread)."""
    global _installed, _previous_handler
    if not callable(callback):
        raise TypeError("nbqueue.checkpoint.on_preempt takes a function of no arguments.")
    runner = _runner()
    if runner is None:
        _warn_once("on_preempt")
        return callback
    with _lock:
        _callbacks.append(callback)
        install = not _installed
        _installed = True
    if install:
        try:
            _previous_handler = signal.signal(signal.SIGTERM, _on_sigterm)
        except ValueError:
            with _lock:
                _installed = False
                _callbacks.remove(callback)
            raise CheckpointError(
                "nbqueue.checkpoint.on_preempt must be called from a cell (the kernel's main "
                "thread), not from another thread."
            ) from None
        try:
            request(runner, {"op": "on_preempt"}, timeout=30)
        except ChannelError as error:
            raise CheckpointError(f"nbqueue.checkpoint.on_preempt: {error}.") from None
    return callback


def _on_sigterm(signum: int, frame: object) -> None:
    runner = _runner()
    try:
        ours = bool(runner and request(runner, {"op": "preempt_start"}, timeout=10).get("preempt"))
    except (ChannelError, ValueError):
        ours = False
    if not ours:
        # Not the runner's preemption (the kernel itself being stopped): as without us.
        previous = _previous_handler
        if callable(previous):
            previous(signum, frame)
            return
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    errors: list[str] = []
    try:
        for callback in list(_callbacks):
            try:
                callback()
            except Exception as error:  # the others still run; the runner is told
                traceback.print_exc(file=sys.stderr)
                errors.append(f"{getattr(callback, '__name__', 'callback')}: {error}")
    finally:
        # A KeyboardInterrupt (the runner gave up waiting) goes on to stop the cell.
        with contextlib.suppress(ChannelError):
            request(runner, {"op": "preempt_done", "errors": errors}, timeout=10)


__all__ = ["CheckpointError", "CheckpointWarning", "latest", "on_preempt", "save"]
