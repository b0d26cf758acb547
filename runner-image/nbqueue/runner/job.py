"""A job's whole life in the runner: fetch, prepare, execute, stream, finish."""

from __future__ import annotations

import logging
import os
import sys
import threading

from ..checkpoint.runner import CheckpointRestoreError, JobCheckpoints
from ..environment import (
    InvalidEnvironment,
    RestoreCancelled,
    RestoreFailed,
    RestoreSettings,
    restore,
)
from ..environment.overlay import JobEnvironment, job_environment
from ..environment.restore import image_site_dirs
from ..files.job import FilesError, JobFiles
from .cancellable_execution import CANCELLED_REASON, NotebookExecution, Outcome
from .early_kernel import EarlyKernel
from .event_sender import EventSender
from .events import EventLog
from .idle_gpu import IdleGpuGuard, IdleGpuSettings
from .notebook import clear_code_outputs, normalize_notebook
from .parameters import InvalidParameter, inject_parameters
from .result import deliver_result
from .sidecar_client import SidecarClient, SidecarError, SidecarRejected
from .system_metrics import SystemSampler, sample_seconds

log = logging.getLogger("nbqueue.runner")

EXIT_OK = 0
EXIT_REJECTED = 2  # the sidecar refused the job token or the job (4xx)
EXIT_UNREACHABLE = 3  # the sidecar stayed unreachable past the retry window


class Runner:
    """Runs one job. `request_cancel` may be called from any thread (signal handler included)."""

    def __init__(
        self,
        client: SidecarClient,
        cwd: str,
        shutdown: str = "graceful",
        early: EarlyKernel | None = None,
    ):
        self.client = client
        # The kernel started while the job is fetched (early_kernel): the execution takes it
        # over when it fits, else it is stopped.
        self.early = early
        self.cwd = cwd
        self.shutdown = shutdown
        self.sender = EventSender(
            client, on_cancel=lambda: self.request_cancel("the sidecar"), on_failure=self._lost
        )
        self.events = EventLog(self.sender.send)
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._execution: NotebookExecution | None = None
        self._job_env: JobEnvironment | None = None
        self._files: JobFiles | None = None
        self._checkpoints: JobCheckpoints | None = None
        self._deadline: threading.Timer | None = None
        self._expired: str | None = None  # why the job fails once stopped: deadline, idle GPU

    def request_cancel(self, by: str) -> None:
        with self._lock:
            if self._cancel.is_set():
                return
            self._cancel.set()
            execution = self._execution
        self.say("warning", f"Cancel requested by {by}: interrupting the kernel.")
        if execution is not None:
            execution.cancel()

    def stop(self, by: str) -> None:
        """SIGTERM (preemption, pod deletion, a cancel on the local backend): the notebook's
        on_preempt callbacks run first, bounded by checkpoints.preempt_seconds, then the job is
        cancelled as by request_cancel. Blocks: call it from a thread of its own."""
        with self._lock:
            execution, checkpoints = self._execution, self._checkpoints
            stopping = self._cancel.is_set()
        if checkpoints is not None and execution is not None and not stopping:
            checkpoints.preempt(execution.kernel_pid())
        self.request_cancel(by)

    def _start_deadline(self, seconds: object) -> None:
        """The job's own run-time limit (`deadline_seconds`), counted from the runner's start as
        Kubernetes counts `activeDeadlineSeconds`: past it the kernel is interrupted as for a
        cancel, and the job fails with what it printed until then kept."""
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds <= 0:
            return
        reason = (
            f"The job ran longer than its deadline of {seconds:g} s and was stopped; "
            "submit it with a longer deadline or make the notebook shorter."
        )

        self._deadline = threading.Timer(
            float(seconds), self._stop_failed, (reason, "the deadline")
        )
        self._deadline.daemon = True
        self._deadline.start()

    def _stop_failed(self, reason: str, by: str) -> None:
        """Interrupts the kernel as a cancel does; the job then fails with `reason`."""
        self._expired = reason
        self.request_cancel(by)

    def _idle_gpu(self, settings: IdleGpuSettings, idle: str) -> None:
        """The idle GPU guard's action (runner/idle_gpu.py), from the sampler's thread."""
        if settings.action == "stop":
            reason = f"{idle}: the profile's idle_gpu guard stopped the job."
            self._stop_failed(reason, "the idle GPU guard")
            return
        message = (
            f"nbqueue: {idle}; the job still holds its GPU(s). "
            "Stop it if it no longer needs them (the profile's idle_gpu guard)."
        )
        with self._lock:
            execution = self._execution
        if execution is not None:
            execution.note(message + "\n")
        self.say("warning", message)

    def say(self, level: str, message: str) -> None:
        """A progress line on stderr that also goes to the job's events."""
        log.log(logging.getLevelName(level.upper()), message)
        self.events.emit("log", level=level, message=message)

    def _system_metric(self, name: str, value: float, step: int, time_ms: int) -> None:
        self.events.emit("metric", name=name, value=value, step=step, time=time_ms, kind="system")

    def _lost(self, error: SidecarError) -> None:
        # Nobody can see this job any more: stop spending the GPU on it.
        if isinstance(error, SidecarRejected):
            # Its token refused: most often a restart took this attempt away (its pod was
            # preempted or evicted; the SIGTERM may not have come yet). The notebook's
            # on_preempt callbacks still store their checkpoint, as on SIGTERM, then it stops.
            threading.Thread(target=self.stop, args=("the sidecar",), daemon=True).start()
            return
        with self._lock:
            execution = self._execution
            self._cancel.set()
        if execution is not None:
            execution.cancel()

    def run(self) -> int:
        try:
            return self._run()
        finally:
            if self.early is not None:
                self.early.discard()  # nothing when the execution took it over

    def _run(self) -> int:
        try:
            payload = self.client.get_job()
        except SidecarRejected as error:
            log.error("could not fetch the job: %s", error)
            return EXIT_REJECTED
        except SidecarError as error:
            log.error("could not fetch the job: %s", error)
            return EXIT_UNREACHABLE

        self.events.continue_from(payload.get("first_seq"))
        self.sender.start()
        limit = payload.get("max_event_bytes")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            self.events.max_event_bytes = limit
        self._nb = payload.get("notebook") or {}
        self._start_deadline(payload.get("deadline_seconds"))
        try:
            outcome = self._run_job(payload)
        except BaseException as error:  # always try to deliver a finish
            log.exception("the runner failed")
            outcome = Outcome("failed", f"The runner failed: {type(error).__name__}: {error}")
        finally:
            if self._deadline is not None:
                self._deadline.cancel()
        if self._expired and outcome.state == "cancelled":
            outcome = Outcome("failed", self._expired)
        if self._checkpoints is not None:
            self._checkpoints.close()
        if self._files is not None:  # whatever the outcome: a failed run's files help too
            self._files.send_outputs((payload.get("job") or {}).get("notebook_path"))
            self._files.cleanup()
        if outcome.state == "failed":
            log.error("job failed: %s", outcome.reason)
        else:
            log.info("job %s%s", outcome.state, f": {outcome.reason}" if outcome.reason else "")

        try:
            delivered = deliver_result(self.client, self._nb, payload.get("max_result_bytes"))
        except SidecarError as error:
            log.error("could not deliver the result notebook: %s", error)
            self.sender.close()
            return EXIT_UNREACHABLE
        if delivered.problem:
            self.say("error", delivered.problem)
            # The job's point was its notebook: a run that succeeded without it did not.
            if outcome.state == "succeeded":
                outcome = Outcome("failed", delivered.problem)
            else:
                reason = " ".join(r for r in (outcome.reason, delivered.problem) if r)
                outcome = Outcome(outcome.state, reason)

        if not self.sender.close():
            error = self.sender.error
            log.error("events could not be delivered; not finishing: %s", error)
            return EXIT_REJECTED if isinstance(error, SidecarRejected) else EXIT_UNREACHABLE
        try:
            self.client.finish(
                outcome.state,
                outcome.reason,
                result=delivered.result,
                notebook=delivered.notebook,
            )
        except SidecarRejected as error:
            log.error("the sidecar refused the finish: %s", error)
            return EXIT_REJECTED
        except SidecarError as error:
            log.error("could not deliver the finish: %s", error)
            return EXIT_UNREACHABLE
        log.info("finish delivered (%s, %d events)", outcome.state, self.events.last_seq)
        return EXIT_OK

    def _run_job(self, payload: dict) -> Outcome:
        """Prepares and executes the notebook in place (self._nb) and says how it ended."""
        job = payload.get("job") or {}
        try:
            nb = self._nb = normalize_notebook(self._nb)
            inject_parameters(nb, payload.get("parameters") or {})
            clear_code_outputs(nb)
        except InvalidParameter as error:
            self.say("error", str(error))
            return Outcome("failed", str(error))
        except Exception as error:
            reason = f"The job's notebook could not be read: {error}"
            self.say("error", reason)
            return Outcome("failed", reason)

        failed = self._prepare_files(job)
        if failed is not None:
            return failed
        restored = self._environment(payload.get("environment") or {})
        if isinstance(restored, Outcome):
            return restored
        self._job_env = restored  # lives (its directory too) until the runner exits
        checkpoint_env = self._prepare_checkpoints(job)
        if isinstance(checkpoint_env, Outcome):
            return checkpoint_env
        python = restored.python if restored else sys.executable
        kernel = (payload.get("kernel") or {}).get("name") or (
            nb.metadata.get("kernelspec", {}).get("name") or "python3"
        )
        code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
        self.events.emit("run_started", cells=len(nb.cells), code_cells=code_cells, kernel=kernel)
        self.say(
            "info",
            f"Running job {job.get('id', '?')} ({len(nb.cells)} cells) on {python} in {self.cwd}.",
        )
        grace = payload.get("cancel_grace_seconds")
        execution = NotebookExecution(
            nb,
            self.events,
            cwd=self.cwd,
            cancel_grace_seconds=10.0 if grace is None else float(grace),
            shutdown=self.shutdown,
            python=python,
            kernel_env=restored.env if restored else None,
            extra_env=checkpoint_env,
            early=self.early,
        )
        with self._lock:
            self._execution = execution
            cancelled = self._cancel.is_set()
        if cancelled:  # before any kernel started: nothing to interrupt
            self.say("warning", CANCELLED_REASON)
            return Outcome("cancelled", CANCELLED_REASON)
        idle = IdleGpuSettings.from_payload(payload.get("idle_gpu"))
        guard = IdleGpuGuard(idle, self._idle_gpu) if idle else None
        sampler = SystemSampler(
            execution.kernel_pid,
            self._system_metric,
            sample_seconds(),
            on_gpus=guard.observe if guard else None,
        )
        sampler.start()
        try:
            outcome = execution.run()
        finally:
            sampler.stop()
        if self._cancel.is_set() and outcome.state != "cancelled":
            outcome = Outcome("cancelled", CANCELLED_REASON)
        if self._expired and outcome.state == "cancelled":
            outcome = Outcome("failed", self._expired)
        if outcome.state == "succeeded":
            self.say("info", outcome.reason or "All cells ran.")
        else:
            self.say("error" if outcome.state == "failed" else "warning", outcome.reason or "")
        return outcome

    def _prepare_files(self, job: dict) -> Outcome | None:
        """Unpacks the job's input files (or finds its shared working directory): self.cwd."""
        self._files = JobFiles(self.client, str(job.get("id") or "job"), self.say)
        try:
            self.cwd = self._files.prepare(self.cwd)
        except FilesError as error:
            reason = str(error)
        except SidecarError as error:
            reason = f"The job's files could not be fetched from the sidecar: {error}"
        else:
            return None
        self.say("error", reason)
        return Outcome("failed", reason)

    def _prepare_checkpoints(self, job: dict) -> dict[str, str] | Outcome:
        """Restores the job's latest checkpoint into its folder and opens the kernel's channel
        (nbqueue.checkpoint); answers the kernel's extra environment."""
        checkpoints = JobCheckpoints(self.client, str(job.get("id") or "job"), self.say)
        with self._lock:
            self._checkpoints = checkpoints
        try:
            return checkpoints.prepare(self.cwd)
        except CheckpointRestoreError as error:
            reason = str(error)
        except SidecarError as error:
            reason = f"The job's latest checkpoint could not be fetched from the sidecar: {error}"
        self.say("error", reason)
        return Outcome("failed", reason)

    def _environment(self, spec: dict) -> JobEnvironment | Outcome | None:
        """The kernel's environment: None for the runner's own (mode `kernel`), else a job venv
        over the one restored from the captured environment (mode `restore`); an Outcome when
        the restore failed."""
        mode = os.environ.get("NBQUEUE_ENVIRONMENT_MODE") or spec.get("mode") or "kernel"
        if mode != "restore":
            return None
        captured = spec.get("captured")
        if not captured:
            self.say("warning", "No environment was captured with this job: using the image's.")
            return None
        try:
            settings = RestoreSettings.from_options(spec.get("restore"))
            restored = restore(captured, settings, self.say, cancelled=self._cancel.is_set)
            job_env = job_environment(restored.python, image_site_dirs())
        except RestoreCancelled:
            self.say("warning", CANCELLED_REASON)
            return Outcome("cancelled", CANCELLED_REASON)
        except (RestoreFailed, InvalidEnvironment, ValueError) as error:
            reason = str(error)
            if isinstance(error, InvalidEnvironment):
                reason = f"The captured environment is not valid: {error}"
            self.say("error", reason)
            return Outcome("failed", reason)
        except Exception as error:
            log.exception("the environment restore failed")
            reason = f"The environment could not be restored: {type(error).__name__}: {error}"
            self.say("error", reason)
            return Outcome("failed", reason)
        self._nb.metadata.setdefault("nbqueue", {})["environment"] = restored.metadata()
        return job_env
