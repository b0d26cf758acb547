"""One execution of the job's notebook on a fresh kernel, with cancellation and an outcome."""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from dataclasses import dataclass

from nbclient.exceptions import CellExecutionError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_output

from .early_kernel import KERNEL_EXTRA_ARGUMENTS, EarlyKernel
from .events import EventLog
from .kernel import (
    KERNEL_NAME,
    ipc_runtime_dir,
    kernel_environ,
    kernel_exit_code,
    own_interpreter_kernel_manager,
    remove_runtime_dir,
)
from .notebook_client import RunCancelled, StreamingNotebookClient, is_clean_exit
from .parameters import user_cell_number

log = logging.getLogger("nbqueue.runner")

CANCELLED_REASON = "Cancelled by the user."
# How long a kernel may take to answer kernel_info once started (nbclient's default); past it
# the kernel is killed and started once more.
KERNEL_START_TIMEOUT = 60  # seconds (nbclient takes an int)


@dataclass
class Outcome:
    state: str  # succeeded | failed | cancelled
    reason: str | None


def cell_error_reason(cell_number: int, ename: str, evalue: str) -> str:
    """`Cell N raised Name: value`, N being the cell's 1-based position in the notebook the
    person submitted (see `user_cell_number`)."""
    evalue = (evalue or "").strip()
    if len(evalue) > 300:
        evalue = evalue[:297] + "..."
    return (
        f"Cell {cell_number} raised {ename}: {evalue}"
        if evalue
        else (f"Cell {cell_number} raised {ename}")
    )


def kernel_died_reason(exit_code: int | None, cell_number: int | None = None) -> str:
    code = "unknown" if exit_code is None else str(exit_code)
    where = f" while running cell {cell_number}" if cell_number is not None else ""
    return (
        f"The kernel died{where} (exit code {code}) — it may have run out of memory; "
        "choose a profile with more memory."
    )


class NotebookExecution:
    """Runs `nb` (in place) with nbclient on its own asyncio loop, in the calling thread.

    `cancel()` may be called from any thread: it interrupts the kernel, gives the running cell
    `cancel_grace_seconds` to stop, then stops the kernel.
    """

    def __init__(
        self,
        nb: NotebookNode,
        events: EventLog,
        cwd: str,
        cancel_grace_seconds: float = 10.0,
        shutdown: str = "graceful",
        python: str | None = None,
        kernel_env: dict[str, str] | None = None,
        extra_env: dict[str, str] | None = None,
        start_timeout: int = KERNEL_START_TIMEOUT,
        early: EarlyKernel | None = None,
    ):
        self.nb = nb
        # A kernel started before the job was known, taken over when it fits (early_kernel).
        self.early = early
        self.start_timeout = start_timeout
        self.extra_env = extra_env or {}  # e.g. the checkpoint channel (nbqueue.checkpoint)
        self.python = python  # the kernel's interpreter; None: the runner's own
        self.kernel_env = kernel_env
        self.events = events
        self.cwd = cwd
        self.grace = cancel_grace_seconds
        self.shutdown = shutdown
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._client: StreamingNotebookClient | None = None
        self._cancel_flow: asyncio.Future | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._start_cancel)

    def run(self) -> Outcome:
        early, self.early = self.early, None
        if early is not None:
            why_not = early.fits(self.python, self.kernel_env)
            if why_not is None:
                early.take()
                try:
                    return early.loop.run(self._main(early))
                finally:
                    early.loop.close()
            log.info("not taking over the kernel started early: %s", why_not)
            early.discard()
        return asyncio.run(self._main())

    def note(self, text: str, name: str = "stderr") -> None:
        """Adds a stream output to the running cell, if one runs, from any thread: in the
        notebook and as its `output` event, on the loop that handles the kernel's outputs."""
        with self._lock:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._note, text, name)

    def _note(self, text: str, name: str) -> None:
        running = self._client.running if self._client is not None else None
        if running is None:
            return
        cell, index = running
        output = new_output("stream", name=name, text=text)
        cell.setdefault("outputs", []).append(output)
        self.events.emit("output", cell_id=cell["id"], cell_index=index, output=output)

    def kernel_pid(self) -> int | None:
        """The kernel process's pid while it runs (read from any thread)."""
        km = self._client.km if self._client is not None else None
        process = getattr(getattr(km, "provisioner", None), "process", None)
        return getattr(process, "pid", None)

    # -- on the loop -----------------------------------------------------------------------

    def _start_cancel(self) -> None:
        if self._cancel_flow is None:
            self._cancel_flow = asyncio.ensure_future(self._cancel_and_wait())

    async def _cancel_and_wait(self) -> None:
        task, client = self._task, self._client
        if task is None or task.done() or client is None:
            return
        km = client.km
        try:
            if km is not None and km.has_kernel:
                log.info("interrupting the kernel")
                await km.interrupt_kernel()
        except Exception as error:  # the kernel may be starting or gone
            log.warning("could not interrupt the kernel: %s", error)
        done, _ = await asyncio.wait({task}, timeout=self.grace)
        if not done:
            log.warning("the cell did not stop within %g s; stopping the kernel", self.grace)
            client.shutdown_kernel = "immediate"
            task.cancel()

    async def _main(self, early: EarlyKernel | None = None) -> Outcome:
        with self._lock:
            self._loop = asyncio.get_running_loop()
        runtime_dir = early.runtime_dir if early else ipc_runtime_dir()  # None: TCP
        try:
            return await self._execute(runtime_dir, early)
        finally:
            remove_runtime_dir(runtime_dir)
            with self._lock:
                self._loop = None

    async def _execute(self, runtime_dir: str | None, early: EarlyKernel | None) -> Outcome:
        def new_manager():
            return own_interpreter_kernel_manager(self.python, self.kernel_env, runtime_dir)

        env = {**kernel_environ(), **self.extra_env}
        km = early.km if early else new_manager()
        client = StreamingNotebookClient(
            self.nb,
            events=self.events,
            is_cancelled=self._cancelled.is_set,
            km=km,
            new_kernel_manager=new_manager,
            kernel_name=KERNEL_NAME,
            startup_timeout=self.start_timeout,
            resources={"metadata": {"path": self.cwd}},
            record_timing=False,
            shutdown_kernel=self.shutdown,
            timeout=None,
            adopt_code=early.adopt_code(self.cwd, env) if early else None,
        )
        client.extra_arguments = list(KERNEL_EXTRA_ARGUMENTS)
        # A kernel started early skips nbclient's start; a second start is the job's own.
        client._start_kwargs = {"cwd": self.cwd, "env": env}
        self._client = client
        self._task = asyncio.ensure_future(client.async_execute(cwd=self.cwd, env=env))
        if self.cancelled:
            self._start_cancel()
        try:
            try:
                await self._task
                outcome = Outcome("succeeded", None)
            except BaseException as error:  # CancelledError included: classify below
                outcome = self._classify(error, client.km or km)
            # Widget state goes into the result whatever the outcome, as papermill does, so the
            # widgets render when the executed notebook is opened.
            client.set_widgets_metadata()
            client.finish_cell("error")
            if self.cancelled:
                outcome = Outcome("cancelled", CANCELLED_REASON)
        finally:
            await self._stop_kernel(client)
            if self._cancel_flow is not None and not self._cancel_flow.done():
                self._cancel_flow.cancel()
        return outcome

    def _classify(self, error: BaseException, km) -> Outcome:
        if self.cancelled or isinstance(error, RunCancelled):
            return Outcome("cancelled", CANCELLED_REASON)
        if isinstance(error, CellExecutionError):
            index = self._client.error_cell_index if self._client else None
            number = user_cell_number(self.nb, index or 0)
            if is_clean_exit(error.ename, error.evalue):
                return Outcome("succeeded", f"The notebook stopped at cell {number} (SystemExit).")
            return Outcome("failed", cell_error_reason(number, error.ename, error.evalue))
        if isinstance(error, DeadKernelError):
            running = self._client.running if self._client else None
            number = user_cell_number(self.nb, running[1]) if running else None
            return Outcome("failed", kernel_died_reason(kernel_exit_code(km), number))
        if self._client is not None and self._client.kc is None:
            log.error("the kernel could not start", exc_info=error)
            tries = self._client.start_attempts
            return Outcome(
                "failed",
                f"The kernel could not start ({type(error).__name__}: {error})"
                + (f"; it was started {tries} times." if tries > 1 else "."),
            )
        if isinstance(error, asyncio.CancelledError):
            return Outcome("failed", "The run was stopped.")
        log.exception("the execution failed", exc_info=error)
        return Outcome("failed", f"The runner failed: {type(error).__name__}: {error}")

    async def _stop_kernel(self, client: StreamingNotebookClient) -> None:
        # nbclient leaves its exit hook registered when the kernel did not start; there is
        # nothing left for it to stop.
        atexit.unregister(client._cleanup_kernel)
        if client.km is None:
            return
        try:
            await client._async_cleanup_kernel()
        except Exception as error:
            log.warning("could not stop the kernel cleanly: %s", error)
