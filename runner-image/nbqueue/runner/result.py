"""The executed notebook back to the sidecar: written to a file and streamed up on its own
(PUT …/result, limited by the sidecar's limits.result_bytes), so a notebook with large outputs
never has to fit in the finish's JSON body. The finish then names what the upload answered."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass

from .sidecar_client import SidecarClient, SidecarRejected


@dataclass
class Delivered:
    """What the finish carries: `result` (the upload's answer) or, for a sidecar without the
    upload, the `notebook` inline; `problem` says why neither (the job ends with it)."""

    result: dict | None = None
    notebook: dict | None = None
    problem: str | None = None


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def write_notebook(nb: dict, path: str) -> int:
    """Writes `nb` as nbformat does (indent 1, sorted keys), streamed to the file; its size."""
    with open(path, "w", encoding="utf-8") as out:
        json.dump(nb, out, indent=1, sort_keys=True, ensure_ascii=True, default=str)
        out.write("\n")
    return os.path.getsize(path)


def deliver_result(client: SidecarClient, nb: dict, max_bytes: object) -> Delivered:
    """Uploads the executed notebook; `max_bytes` is the job payload's `max_result_bytes`,
    which only sidecars with the upload send. SidecarUnreachable passes through (the finish
    could not be delivered either)."""
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool):
        return Delivered(notebook=nb)  # a sidecar from before the upload
    fd, path = tempfile.mkstemp(prefix="nbqueue-result-", suffix=".ipynb")
    os.close(fd)
    try:
        size = write_notebook(nb, path)
        if size > max_bytes:
            return Delivered(
                problem=(
                    f"The executed notebook is {_mb(size)} ({size} bytes), over the sidecar's "
                    f"limits.result_bytes ({max_bytes} bytes), so it was not stored; the outputs "
                    "streamed live stay in the job's events. Clear or shrink the largest outputs "
                    "(images, long prints), or ask the sidecar's admin to raise "
                    "limits.result_bytes."
                )
            )
        try:
            return Delivered(result=client.upload_result(path))
        except SidecarRejected as error:
            if error.status == 404 and error.code == "not_found":
                # A sidecar from before the result upload: the notebook goes in the finish.
                return Delivered(notebook=nb)
            return Delivered(
                problem=(
                    f"The executed notebook was not stored: {error.message} "
                    "(the outputs streamed live stay in the job's events)."
                )
            )
    finally:
        os.unlink(path)
