"""The job's kernel: ipykernel on the runner's own interpreter, whatever kernelspecs exist.

The backend starts the runner on the interpreter the notebook's kernel was using, so running
`sys.executable -m ipykernel_launcher` gives the job the same environment, while an installed
`python3` kernelspec could point anywhere.
"""

from __future__ import annotations

import sys

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

KERNEL_NAME = "python3"


class OwnInterpreterKernelSpecManager(KernelSpecManager):
    def own_spec(self) -> KernelSpec:
        version = "{}.{}".format(*sys.version_info[:2])
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=f"Python {version} ({sys.executable})",
            language="python",
            metadata={"debugger": False},
        )

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return self.own_spec()

    def find_kernel_specs(self) -> dict[str, str]:
        return {KERNEL_NAME: ""}


def own_interpreter_kernel_manager() -> AsyncKernelManager:
    return AsyncKernelManager(
        kernel_name=KERNEL_NAME, kernel_spec_manager=OwnInterpreterKernelSpecManager()
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
