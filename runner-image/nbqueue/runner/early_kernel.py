"""The job's kernel started before the job is known, so it is ready by the first cell.

A kernel takes most of a second to start (its interpreter, ipykernel's imports), and a runner
spends about as long fetching the job, unpacking its files, restoring its checkpoint and checking
its environment. `EarlyKernel` starts the kernel first, on the runner's own interpreter, in the
runner's folder, with the runner's environment (less its secrets: `kernel_environ`), and the job
then takes it over. A warm runner of the local backend (`backend.local.warm_kernels`) does the
same before any job is handed to it.

The rule, so that the notebook sees exactly what a kernel started for it would show it:

- The interpreter and the kernelspec's variables cannot change in a running kernel. When the job
  needs others (its captured environment restored: `restore` mode), the early kernel is shut
  down and the job's own started instead. With NBQUEUE_ENVIRONMENT_MODE=restore the runner does
  not start one early at all.
- The working folder and the variables can: what the job's start would differ in (the job's
  files unpacked elsewhere, its checkpoint channel, NBQUEUE_JOB_ID after a warm runner's
  handover) is applied in the kernel, silently, before the first cell: `os.environ` set to
  exactly the job's variables (added, changed and removed ones), `os.chdir` to its folder, the
  start folder replaced by it in `sys.path` and in IPython's directory history `_dh`. Nothing of
  the notebook has run by then. The job token is never among them (`RUNNER_SECRETS`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Coroutine
from typing import Any

from .kernel import (
    ipc_runtime_dir,
    kernel_environ,
    own_interpreter_kernel_manager,
    remove_runtime_dir,
)

log = logging.getLogger("nbqueue.runner")

# As nbclient starts a kernel (its ipython_hist_file default): no history file written.
KERNEL_EXTRA_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]

ADOPT_TEMPLATE = """
def __nbqueue_adopt(sets, unsets, old, new):
    import os, sys
    for name in unsets:
        os.environ.pop(name, None)
    os.environ.update(sets)
    if new != old:
        os.chdir(new)
        sys.path[:] = [new if p == old else p for p in sys.path]
        dh = get_ipython().user_ns.get("_dh")
        if isinstance(dh, list):
            dh[:] = [type(d)(new) if str(d) == old else d for d in dh]
__nbqueue_adopt({sets!r}, {unsets!r}, {old!r}, {new!r})
del __nbqueue_adopt
"""


class KernelLoop:
    """An asyncio loop in a thread of its own: the kernel's manager and client live on it from
    the early start to the job's end (their ZMQ sockets are bound to one loop)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="nbqueue-kernel", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine) -> Any:
        """Runs `coro` on the loop and waits for its result (from another thread)."""
        return self.submit(coro).result()

    def close(self) -> None:
        if self.loop.is_closed():
            return
        try:
            self.run(self.loop.shutdown_asyncgens())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join()
            self.loop.close()


class EarlyKernel:
    """A kernel started now on `python` (None: the runner's own) in `cwd` with `env`."""

    def __init__(
        self,
        python: str | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.python = python or sys.executable
        self.cwd = cwd or os.getcwd()
        self.env = dict(kernel_environ() if env is None else env)
        self.loop = KernelLoop()
        self.runtime_dir = ipc_runtime_dir()
        self.km = own_interpreter_kernel_manager(python, None, self.runtime_dir)
        self._taken = False
        self.started = self.loop.submit(
            self.km.start_kernel(extra_arguments=KERNEL_EXTRA_ARGUMENTS, cwd=self.cwd, env=self.env)
        )
        log.info("starting the kernel early (%s in %s)", self.python, self.cwd)

    def fits(self, python: str | None, kernel_env: dict[str, str] | None) -> str | None:
        """None when the job may take this kernel over; else why not (it then starts its own)."""
        wanted = python or sys.executable
        if wanted != self.python or kernel_env:
            return f"the job's kernel runs on {wanted} in its restored environment"
        try:
            self.started.result()
        except Exception as error:
            return f"it did not start ({type(error).__name__}: {error})"
        return None

    def take(self) -> None:
        """The job's execution owns the kernel (and the loop, the folder) from now on."""
        self._taken = True

    def adopt_code(self, cwd: str, env: dict[str, str]) -> str | None:
        """What makes the kernel's variables and folder the job's (None: they are already)."""
        sets = {k: v for k, v in env.items() if self.env.get(k) != v}
        unsets = sorted(k for k in self.env if k not in env)
        if not sets and not unsets and cwd == self.cwd:
            return None
        return ADOPT_TEMPLATE.format(sets=sets, unsets=unsets, old=self.cwd, new=cwd)

    def discard(self) -> None:
        """Stops the kernel at once (nothing of a job ran on it) unless a job took it over."""
        if self._taken:
            return
        self._taken = True
        try:
            self.loop.run(self._shutdown())
        except Exception as error:
            log.warning("could not stop the kernel started early: %s", error)
        finally:
            self.loop.close()
            remove_runtime_dir(self.runtime_dir)

    async def _shutdown(self) -> None:
        with contextlib.suppress(Exception):  # a start that failed left nothing to stop
            await asyncio.wrap_future(self.started)
        if self.km.has_kernel:
            await self.km.shutdown_kernel(now=True)


def start_early_kernel() -> EarlyKernel | None:
    """The early kernel, unless its interpreter is not known yet (NBQUEUE_ENVIRONMENT_MODE is
    `restore`) or NBQUEUE_EARLY_KERNEL is 0."""
    if os.environ.get("NBQUEUE_EARLY_KERNEL", "1") == "0":
        return None
    if os.environ.get("NBQUEUE_ENVIRONMENT_MODE") == "restore":
        return None
    try:
        return EarlyKernel()
    except Exception as error:  # the job's own start will say what is wrong
        log.warning("could not start the kernel early: %s", error)
        return None
