"""A job's working files in the runner: unpack the input bundle before the run, send back
what the run wrote after it (docs/protocol.md, "Working files")."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import urllib.parse
from typing import Callable

from .archive import BundleError, extract_bundle, write_bundle
from .collect import Collected, Snapshot, collect_outputs, snapshot
from .manifest import human_size

log = logging.getLogger("nbqueue.runner")


class FilesError(Exception):
    """The job cannot start: its files could not be put in place (said for a person)."""


#: Bytes of the X-Nbqueue-Left-Out header at most (HTTP servers refuse headers over 8-16 KB).
HEADER_LIMIT = 8000


def left_out_header(collected: Collected) -> str:
    """What was left out, URI-encoded JSON, as many entries as fit in HEADER_LIMIT."""
    entries: list[dict] = []
    encoded = urllib.parse.quote("[]")
    for path, size, reason in collected.left_out:
        candidate = [*entries, {"path": path, "size": size, "reason": reason}]
        text = urllib.parse.quote(json.dumps(candidate))
        if len(text) > HEADER_LIMIT:
            break
        entries, encoded = candidate, text
    return encoded


class JobFiles:
    """`client` is the runner's SidecarClient; `say(level, message)` reports to the job."""

    def __init__(self, client, job_id: str, say: Callable[[str, str], None]):
        self.client = client
        self.job_id = job_id
        self.say = say
        self.plan: dict = {}
        self.cwd: str | None = None
        self._temp: str | None = None
        self._before: Snapshot | None = None

    def prepare(self, default_cwd: str) -> str:
        """Puts the job's files in place and answers the directory the job runs in."""
        from ..runner.sidecar_client import SidecarRejected

        try:
            self.plan = self.client.get_files() or {}
        except SidecarRejected as error:
            if error.status != 404:  # a sidecar older than working files has no such route
                raise
            self.plan = {}
        cwd = default_cwd
        if self.plan.get("input"):
            root = os.environ.get("NBQUEUE_WORK_ROOT") or None
            self._temp = tempfile.mkdtemp(prefix=f"nbqueue-{self.job_id}-", dir=root)
            cwd = os.path.join(self._temp, "work")
            os.mkdir(cwd)
            archive = os.path.join(self._temp, "input.tar.gz")
            self.client.download_input(archive)
            try:
                written = extract_bundle(archive, cwd)
            except BundleError as error:
                raise FilesError(f"The job's files could not be unpacked: {error}") from None
            finally:
                os.unlink(archive)
            total = sum(size for _, size in written)
            self.say("info", f"Unpacked {len(written)} file(s) ({human_size(total)}) into {cwd}.")
        elif self.plan.get("working_dir"):
            cwd = self.plan["working_dir"]
            if not os.path.isdir(cwd):
                raise FilesError(
                    f"The job's working directory {cwd} does not exist here: the shared storage "
                    "(files.working_dir) is not mounted, or the notebook's folder is not on it."
                )
        self.cwd = cwd
        if self.plan.get("collect_outputs"):
            self._before = snapshot(cwd)
        return cwd

    def send_outputs(self, notebook_path: str | None) -> Collected | None:
        """Collects the files the run created or modified and uploads them (never raises)."""
        if self._before is None or self.cwd is None:
            return None
        try:
            name = os.path.basename(notebook_path) if notebook_path else None
            collected = collect_outputs(
                self.cwd,
                self._before,
                int(self.plan.get("max_output_bytes") or 100 * 1024 * 1024),
                exclude={name} if name else set(),
            )
            if not collected.files and not collected.left_out:
                return collected
            with tempfile.NamedTemporaryFile(suffix=".tar.gz", delete=False) as handle:
                write_bundle(self.cwd, [p for p, _ in collected.files], handle)
                archive = handle.name
            try:
                self.client.upload_output(archive, left_out_header(collected))
            finally:
                os.unlink(archive)
            level = "warning" if collected.left_out else "info"
            self.say(level, f"Output files: {collected.summary()}")
            return collected
        except Exception as error:  # the job's own outcome stands; its files are lost
            log.exception("output files not sent")
            self.say("warning", f"The job's output files could not be sent back: {error}")
            return None

    def cleanup(self) -> None:
        if self._temp and not os.environ.get("NBQUEUE_KEEP_WORK_DIR"):
            shutil.rmtree(self._temp, ignore_errors=True)
