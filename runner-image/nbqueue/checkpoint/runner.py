"""The runner's side of checkpoints (docs/checkpoints.md): restore the job's latest checkpoint
before the kernel starts, store what the kernel saves (the runner holds the job token), and on
SIGTERM give the notebook's `on_preempt` callbacks their time before the job is stopped."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from typing import Callable

from ..files.archive import BundleError, extract_bundle
from ..files.manifest import human_size
from .channel import RESTORED_ENV, SOCKET_ENV, ChannelServer
from .stream import CheckpointChanged, body_for

log = logging.getLogger("nbqueue.runner")

#: Where a restored checkpoint goes, under the job's working folder: <this>/<job id>/<name>.
RESTORE_DIR = os.path.join(".nbqueue", "checkpoints")


class CheckpointRestoreError(Exception):
    """The job's latest checkpoint could not be put back (said for a person)."""


class JobCheckpoints:
    """`client` is the runner's SidecarClient; `say(level, message)` reports to the job."""

    def __init__(self, client, job_id: str, say: Callable[[str, str], None]):
        self.client = client
        self.job_id = job_id
        self.say = say
        self.enabled = False
        self.max_bytes = 0
        self.preempt_seconds = 30.0
        self.restored: str | None = None
        self._restore_root: str | None = None
        self._socket_dir: str | None = None
        self._server: ChannelServer | None = None
        self._lock = threading.Lock()
        self._saving = 0
        self._idle = threading.Condition(self._lock)
        self._has_callbacks = False
        self._preempting = False
        self._preempt_started = False
        self._preempt_done = threading.Event()
        self._preempt_over = threading.Event()

    # -- before the kernel starts ------------------------------------------------------------

    def prepare(self, cwd: str) -> dict[str, str]:
        """Restores the latest checkpoint into `cwd` and opens the kernel's channel; answers the
        variables the kernel starts with. A sidecar without checkpoints (404) turns them off."""
        from ..runner.sidecar_client import SidecarRejected

        try:
            plan = self.client.get_checkpoints() or {}
        except SidecarRejected as error:
            if error.status != 404:
                raise
            return {}
        self.enabled = True
        self.max_bytes = int(plan.get("max_bytes") or 0)
        self.preempt_seconds = float(plan.get("preempt_seconds") or 0)
        env: dict[str, str] = {}
        latest = plan.get("latest")
        if latest:
            env[RESTORED_ENV] = self._restore(cwd, latest)
        self._socket_dir = tempfile.mkdtemp(prefix="nbqueue-ckpt-")  # 0700: ours alone
        path = os.path.join(self._socket_dir, "runner.sock")
        self._server = ChannelServer(path, self._handle)
        threading.Thread(
            target=self._server.serve_forever, name="nbqueue-checkpoints", daemon=True
        ).start()
        env[SOCKET_ENV] = path
        return env

    def _restore(self, cwd: str, latest: dict) -> str:
        name = os.path.basename(str(latest.get("name") or "checkpoint")) or "checkpoint"
        root = os.path.join(cwd, RESTORE_DIR, self.job_id)
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root, mode=0o700)
        self._restore_root = root
        target = os.path.join(root, name)
        download = os.path.join(root, f".{name}.part")
        seq = latest.get("seq")
        try:
            self.client.download_checkpoint(int(seq), download)
            if latest.get("kind") == "folder":
                try:
                    extract_bundle(download, target)
                finally:
                    os.unlink(download)
            else:
                os.replace(download, target)
        except BundleError as error:
            raise CheckpointRestoreError(
                f"The job's checkpoint {seq} ({name}) could not be restored: {error}"
            ) from None
        self.restored = target
        size = human_size(int(latest.get("bytes") or 0))
        self.say("info", f"Restored checkpoint {seq} ({name}, {size}) into {target}.")
        return target

    # -- while the kernel runs ---------------------------------------------------------------

    def _handle(self, message: dict) -> dict:
        op = message.get("op")
        if op == "save":
            return self._save(str(message.get("path") or ""))
        if op == "on_preempt":
            with self._lock:
                self._has_callbacks = True
            return {"ok": True}
        if op == "preempt_start":
            with self._lock:
                ours = self._preempting and not self._preempt_started
                self._preempt_started = self._preempt_started or ours
            return {"ok": True, "preempt": ours}
        if op == "preempt_done":
            errors = [str(e) for e in message.get("errors") or []]
            if errors:
                self.say("warning", "on_preempt callbacks failed: " + "; ".join(errors))
            self._preempt_done.set()
            return {"ok": True}
        return {"ok": False, "error": f"unknown request {op!r}"}

    def _save(self, path: str) -> dict:
        from ..runner.sidecar_client import SidecarError

        if not path or not os.path.isabs(path):
            return {"ok": False, "error": f"nbqueue.checkpoint.save needs a path, not {path!r}."}
        try:
            body = body_for(path)
        except OSError as error:
            return {"ok": False, "error": f"{path} cannot be read: {error}."}
        if self.max_bytes and body.length > self.max_bytes:
            return {
                "ok": False,
                "error": (
                    f"The checkpoint {path} is {human_size(body.length)}, more than the "
                    f"{human_size(self.max_bytes)} a job may save (limits.checkpoint_bytes). "
                    "Save less (the model's state_dict, not everything), or ask the operator "
                    "to raise the limit."
                ),
            }
        with self._lock:
            self._saving += 1
        try:
            stored = self.client.upload_checkpoint(body)
        except (SidecarError, CheckpointChanged, OSError) as error:
            log.warning("checkpoint %s not stored: %s", path, error)
            return {"ok": False, "error": f"The checkpoint {path} was not stored: {error}"}
        finally:
            with self._lock:
                self._saving -= 1
                self._idle.notify_all()
        self.say(
            "info",
            f"Checkpoint {stored.get('seq')} stored: {body.name} ({human_size(body.length)}).",
        )
        return {"ok": True, "checkpoint": stored}

    # -- SIGTERM -----------------------------------------------------------------------------

    def preempt(self, kernel_pid: int | None) -> None:
        """Runs the kernel's on_preempt callbacks (SIGTERM to the kernel, whose handler runs
        them while its cell runs) and waits for them and every save in flight, at most
        `preempt_seconds`. Returns at once when the notebook registered none. A second call
        (SIGTERM after a refused token, or the other way round) waits for the first."""
        with self._lock:
            if not self._has_callbacks or not kernel_pid:
                return
            again = self._preempting
            self._preempting = True
        if again:
            self._preempt_over.wait(self.preempt_seconds + 1)
            return
        try:
            self._preempt(kernel_pid)
        finally:
            self._preempt_over.set()

    def _preempt(self, kernel_pid: int) -> None:
        deadline = time.monotonic() + self.preempt_seconds
        self.say(
            "warning",
            "Stopped (SIGTERM, or this attempt taken away): running the notebook's "
            f"on_preempt callbacks (up to {self.preempt_seconds:g} s).",
        )
        try:
            os.kill(kernel_pid, signal.SIGTERM)
        except OSError as error:
            self.say("warning", f"The kernel could not be told to save: {error}.")
            return
        if not self._preempt_done.wait(max(0.0, deadline - time.monotonic())):
            self.say(
                "warning",
                f"The on_preempt callbacks did not finish within {self.preempt_seconds:g} s "
                "(checkpoints.preempt_seconds); stopping the job.",
            )
        with self._lock:
            while self._saving and time.monotonic() < deadline:
                self._idle.wait(deadline - time.monotonic())

    def close(self) -> None:
        """Stops the channel and removes the restored copy (the kernel has stopped)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
        if self._restore_root:
            shutil.rmtree(self._restore_root, ignore_errors=True)
            parent = os.path.dirname(self._restore_root)  # .nbqueue/checkpoints
            for folder in (parent, os.path.dirname(parent)):
                try:
                    os.rmdir(folder)  # only when empty
                except OSError:
                    break
