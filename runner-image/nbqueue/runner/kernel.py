"""The job's kernel: ipykernel on the runner's own interpreter, whatever kernelspecs exist.

The backend starts the runner on the interpreter the notebook's kernel was using, so running
`sys.executable -m ipykernel_launcher` gives the job the same environment, while an installed
`python3` kernelspec could point anywhere. In `restore` mode the kernel runs instead on the
restored virtualenv's python (nbqueue.environment), which sees the image's packages under its own.
"""

from __future__ import annotations

import os
import sys

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from traitlets import Dict, Unicode

KERNEL_NAME = "python3"


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


def own_interpreter_kernel_manager(
    python: str | None = None, env: dict[str, str] | None = None
) -> AsyncKernelManager:
    return AsyncKernelManager(
        kernel_name=KERNEL_NAME,
        kernel_spec_manager=OwnInterpreterKernelSpecManager(python=python or "", env=env or {}),
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
