"""A real ipykernel for tests that talk to it directly (no runner): execute, collect iopub."""

from __future__ import annotations

import os

from jupyter_client.manager import KernelManager

from nbqueue.runner.kernel import KERNEL_NAME, OwnInterpreterKernelSpecManager

from conftest import RUNNER_IMAGE


class Kernel:
    def __init__(self, **env: str):
        environ = {k: v for k, v in os.environ.items() if not k.startswith("NBQUEUE_")}
        environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(RUNNER_IMAGE), os.environ.get("PYTHONPATH")])
        )
        environ.update(env)
        self.km = KernelManager(
            kernel_name=KERNEL_NAME, kernel_spec_manager=OwnInterpreterKernelSpecManager()
        )
        self.km.start_kernel(env=environ)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=30)

    def run(self, code: str, timeout: float = 60) -> list[dict]:
        """Every iopub message of this execution, up to its `idle` status."""
        msg_id = self.kc.execute(code)
        messages = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return messages

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def displays(messages: list[dict], mime: str) -> list[dict]:
    return [
        m
        for m in messages
        if m["msg_type"] in ("display_data", "update_display_data") and mime in m["content"]["data"]
    ]


def stream_text(messages: list[dict], name: str) -> str:
    return "".join(
        m["content"]["text"]
        for m in messages
        if m["msg_type"] == "stream" and m["content"]["name"] == name
    )
