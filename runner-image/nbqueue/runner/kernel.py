"""The job's kernel: ipykernel on the runner's own interpreter, whatever kernelspecs exist.

The backend starts the runner on the interpreter the notebook's kernel was using, so running
`sys.executable -m ipykernel_launcher` gives the job the same environment, while an installed
`python3` kernelspec could point anywhere. In `restore` mode the kernel runs instead on the
restored virtualenv's python (nbqueue.environment), which sees the image's packages under its own.

On Linux the kernel talks to the runner over ZMQ's IPC transport: its five sockets are Unix
sockets in a private folder of the runner (0700), next to its connection file, so no TCP port is
chosen at all. With TCP, jupyter_client picks free ports and the kernel binds them later, and
another process starting at the same moment can take one in between (the kernel then never
answers); elsewhere (macOS, Windows) TCP on localhost stays.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import uuid

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from traitlets import Dict, Unicode

log = logging.getLogger("nbqueue.runner")

KERNEL_NAME = "python3"
# A Unix socket's path is at most 107 bytes on Linux; room for `/kernel-<8 hex>-<port>`.
MAX_RUNTIME_DIR_CHARS = 107 - len("/kernel-12345678-99")


class OwnInterpreterKernelSpecManager(KernelSpecManager):
    python = Unicode(help="The kernel's interpreter; empty: the runner's own.").tag(config=True)
    env = Dict(help="Variables the kernel runs with (a restored venv's VIRTUAL_ENV, PATH).")

    def own_spec(self) -> KernelSpec:
        version = "{}.{}".format(*sys.version_info[:2])
        python = self.python or sys.executable
        env = dict(self.env)
        if not env and python != sys.executable:
            # A restored virtualenv: its scripts first on PATH, as `activate` would do.
            venv = os.path.dirname(os.path.dirname(python))
            path = os.environ.get("PATH", "")
            env = {
                "VIRTUAL_ENV": venv,
                "PATH": os.pathsep.join(filter(None, [f"{venv}/bin", path])),
            }
        return KernelSpec(
            argv=[python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=f"Python {version} ({python})",
            language="python",
            metadata={"debugger": False},
            env=env,
        )

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return self.own_spec()

    def find_kernel_specs(self) -> dict[str, str]:
        return {KERNEL_NAME: ""}


# The runner's own credential: the notebook's code never needs it (metrics travel on the
# kernel's own channel), so a job cannot leak it or act as the runner with it.
RUNNER_SECRETS = ("NBQUEUE_JOB_TOKEN",)


def kernel_environ() -> dict[str, str]:
    """The environment the kernel starts with: the runner's, less the runner's secrets."""
    return {k: v for k, v in os.environ.items() if k not in RUNNER_SECRETS}


def ipc_runtime_dir() -> str | None:
    """A new private folder (0700) for the kernels' connection files and IPC sockets, or None
    where IPC cannot be used (not Linux, no writable temporary folder, a path too long for a
    Unix socket): the kernel then uses TCP. The caller removes it (`remove_runtime_dir`)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        path = tempfile.mkdtemp(prefix="nbqueue-kernel-")  # 0700: the runner's alone
    except OSError as error:
        log.warning("no folder for the kernel's IPC sockets (%s); using TCP", error)
        return None
    if len(path) > MAX_RUNTIME_DIR_CHARS:
        log.warning("the temporary folder %s is too long for Unix sockets; using TCP", path)
        remove_runtime_dir(path)
        return None
    return path


def remove_runtime_dir(path: str | None) -> None:
    if path:
        shutil.rmtree(path, ignore_errors=True)


def own_interpreter_kernel_manager(
    python: str | None = None,
    env: dict[str, str] | None = None,
    runtime_dir: str | None = None,
) -> AsyncKernelManager:
    """A manager for one kernel start: over IPC in `runtime_dir` when given (each manager its
    own socket names there), else over TCP on localhost."""
    ipc: dict[str, str] = {}
    if runtime_dir:
        name = os.path.join(runtime_dir, f"kernel-{uuid.uuid4().hex[:8]}")
        ipc = {"transport": "ipc", "ip": name, "connection_file": f"{name}.json"}
    return AsyncKernelManager(
        kernel_name=KERNEL_NAME,
        kernel_spec_manager=OwnInterpreterKernelSpecManager(python=python or "", env=env or {}),
        **ipc,
    )


def kernel_exit_code(km: AsyncKernelManager) -> int | None:
    """The exit status of a kernel process that has ended (negative: killed by that signal)."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is None:
        return None
    try:
        return process.poll()
    except Exception:
        return None
