"""The nbclient executor that turns every kernel message it handles into a job event."""

from __future__ import annotations

import logging
import re
import time
from queue import Empty
from typing import Any, Callable

from nbclient import NotebookClient
from nbformat import NotebookNode

from ..metrics.mime import POINTS_MIME
from ..outputs import OUTPUT_MIME, OutputError, encode_value
from .events import EventLog
from .parameters import user_cell_number

log = logging.getLogger("nbqueue-runner")

# What jupyter_client says when the kernel did not answer kernel_info: its process ended first,
# or it stayed silent for the whole start timeout (a TCP start that lost one of its ports to
# another process could end either way; see nbqueue.runner.kernel).
KERNEL_DIED_AT_START = "died before replying to kernel_info"
KERNEL_SILENT_AT_START = "didn't respond in"
KERNEL_START_FAILURES = (KERNEL_DIED_AT_START, KERNEL_SILENT_AT_START)

DISPLAY_OUTPUT_TYPES = ("display_data", "execute_result")
MAX_METRIC_NAME = 200
MAX_TRACEBACK_CHARS = 20_000
RAISES_TAG = "raises-exception"  # nbclient lets a cell with this tag raise and goes on
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def is_clean_exit(ename: str | None, evalue: str | None) -> bool:
    """`sys.exit()`, `sys.exit(0)` or a bare `raise SystemExit`: papermill's rule is that the
    notebook stops there and the run succeeds; any other exit code fails it."""
    return ename == "SystemExit" and (evalue or "").strip() in ("", "0")


def plain_traceback(lines: object, limit: int) -> str:
    """The kernel's traceback lines without their ANSI colours, the end kept when too long."""
    text = (
        "\n".join(line for line in lines if isinstance(line, str))
        if isinstance(lines, list)
        else ""
    )
    text = ANSI_ESCAPE.sub("", text)
    return text if len(text) <= limit else "…" + text[-limit:]


# nbclient waits on the shell and iopub channels without a bound when a cell has no timeout,
# and for the whole of the cell's timeout when it has one. The socket's readiness is
# edge-triggered, and a widget (an Output widget) writes on the shell socket while nbclient waits
# on it, so the wake-up for the execute reply can be missed and the wait lasts until its end:
# for ever, or the cell's whole timeout (nbclient #312). Each wait is cut into polls of this
# length: a missed edge costs at most this long, and a message waiting is read at once.
CHANNEL_POLL_SECONDS = 1.0


def bound_channel_waits(kc: Any) -> None:
    """Make `get_msg` on the kernel client's shell and iopub channels poll again every
    CHANNEL_POLL_SECONDS instead of waiting once, for ever (no timeout) or for its whole timeout
    (which still ends the wait with `Empty`)."""
    for channel in (kc.shell_channel, kc.iopub_channel):
        get_msg = channel.get_msg

        async def bounded(timeout: float | None = None, _get_msg=get_msg) -> dict:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = CHANNEL_POLL_SECONDS
                if deadline is not None:
                    left = max(0.0, min(left, deadline - time.monotonic()))
                try:
                    return await _get_msg(timeout=left)
                except Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise

        channel.get_msg = bounded


class RunCancelled(Exception):
    """Raised before the next cell once the user cancelled the job."""


class StreamingNotebookClient(NotebookClient):
    """NotebookClient that reports as it goes, through nbclient's own hooks.

    Events mirror exactly what nbclient does to the notebook (see `replay.apply_events`): an
    `output` event for each output nbclient appends, `clear_output` and `update_display_data`
    for the messages it applies, `execution_count` whenever a cell's count changes.
    """

    def __init__(
        self,
        nb: NotebookNode,
        events: EventLog,
        is_cancelled: Callable[[], bool],
        new_kernel_manager: Callable[[], Any] | None = None,
        adopt_code: str | None = None,
        **kw: object,
    ):
        super().__init__(
            nb,
            on_cell_start=self._on_cell_start,
            on_cell_execute=self._on_cell_execute,
            on_cell_executed=self._on_cell_executed,
            on_cell_error=self._on_cell_error,
            **kw,
        )
        self.events = events
        self.is_cancelled = is_cancelled
        # (cell, index) of the cell between cell_started and cell_finished, if any
        self.running: tuple[NotebookNode, int] | None = None
        self._sent_counts: dict[str, int | None] = {}
        # cell index -> which code cell it is (1-based), made at the first cell
        self._code_numbers: dict[int, int] | None = None
        # index of the last cell whose execution raised (allowed or not)
        self.error_cell_index: int | None = None
        self._start_kwargs: dict[str, Any] = {}
        self.start_attempts = 0
        self._starting = False  # inside nbclient's start of the kernel client
        # Makes a manager like the one given, for a second start (the first one's is closed).
        self.new_kernel_manager = new_kernel_manager
        # A kernel started early: what makes its folder and variables the job's (early_kernel).
        self.adopt_code = adopt_code

    # -- kernel start: once more when the kernel died or stayed silent before it answered ------

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        self._start_kwargs = kwargs
        self.start_attempts += 1
        await super().async_start_new_kernel(**kwargs)

    async def async_start_new_kernel_client(self):
        try:
            kc = await self._start_client_or_kill()
        except RuntimeError as error:
            # Nothing of the notebook has run yet, so a second start is safe; only once.
            if (
                not any(failure in str(error) for failure in KERNEL_START_FAILURES)
                or self.start_attempts > 1
                or self.new_kernel_manager is None
            ):
                raise
            log.warning("the kernel did not start (%s); starting it once more", error)
            # A new manager (nbclient's clean-up closed the first): new socket names or ports;
            # started for the job itself, with its folder and variables.
            self.adopt_code = None
            self.km = self.new_kernel_manager()
            await self.async_start_new_kernel(**self._start_kwargs)
            return await self._start_client_or_kill()
        if self.adopt_code:
            await self._adopt(self.adopt_code)
        return kc

    async def _adopt(self, code: str) -> None:
        """Makes the early kernel's folder and variables the job's, before any cell runs."""
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        reply = await self.async_wait_for_reply(msg_id)
        content = (reply or {}).get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(
                "The kernel started early could not take the job's folder and variables: "
                f"{content.get('ename')}: {content.get('evalue')}"
            )

    async def _start_client_or_kill(self):
        self._starting = True
        try:
            kc = await super().async_start_new_kernel_client()
        finally:
            self._starting = False
        bound_channel_waits(kc)
        return kc

    async def _async_cleanup_kernel(self) -> None:
        """A kernel that failed to start is killed at once (SIGKILL), not asked to shut down:
        it has not answered, and nothing of the notebook has run."""
        if not self._starting:
            return await super()._async_cleanup_kernel()
        shutdown, self.shutdown_kernel = self.shutdown_kernel, "immediate"
        try:
            await super()._async_cleanup_kernel()
        finally:
            self.shutdown_kernel = shutdown

    # -- nbclient hooks --------------------------------------------------------------------

    def _on_cell_start(self, cell: NotebookNode, cell_index: int) -> None:
        if self.is_cancelled():
            raise RunCancelled()

    def _on_cell_execute(self, cell: NotebookNode, cell_index: int) -> None:
        cell["execution_count"] = None
        self._sent_counts[cell["id"]] = None
        self.running = (cell, cell_index)
        # Which code cell this is, 1-based, so clients can say "cell 5 of 12" (numbered once).
        if self._code_numbers is None:
            code = [i for i, c in enumerate(self.nb.cells) if c.cell_type == "code"]
            self._code_numbers = {index: n for n, index in enumerate(code, start=1)}
        code_cell = self._code_numbers.get(cell_index, 0)
        self.events.emit(
            "cell_started", cell_id=cell["id"], cell_index=cell_index, code_cell=code_cell
        )

    def _on_cell_executed(
        self, cell: NotebookNode, cell_index: int, execute_reply: dict | None
    ) -> None:
        status = (execute_reply or {}).get("content", {}).get("status")
        self._emit_execution_count(cell, cell_index)
        self.finish_cell("ok" if status == "ok" else "error")

    def _on_cell_error(
        self, cell: NotebookNode, cell_index: int, execute_reply: dict | None
    ) -> None:
        content = (execute_reply or {}).get("content", {})
        self.error_cell_index = cell_index
        ename = content.get("ename", "an error")
        allowed = RAISES_TAG in cell.metadata.get("tags", []) or is_clean_exit(
            ename, content.get("evalue")
        )
        message = f"Cell {user_cell_number(self.nb, cell_index)} raised {ename}."
        if not allowed:
            # The job ends here: its log shows where and why, as papermill's error banner does.
            message += "\n" + plain_traceback(content.get("traceback"), MAX_TRACEBACK_CHARS)
        self.events.emit(
            "log",
            level="warning" if allowed else "error",
            message=message.rstrip(),
            cell_id=cell["id"],
            cell_index=cell_index,
        )

    # -- kernel messages -------------------------------------------------------------------

    def process_message(
        self, msg: dict, cell: NotebookNode, cell_index: int
    ) -> NotebookNode | None:
        msg_type = msg["msg_type"]
        content = msg.get("content", {})
        if msg_type == "display_data" and POINTS_MIME in (content.get("data") or {}):
            # nbqueue.log_metric's points: events for the sidecar, never an output.
            self._emit_points(content["data"][POINTS_MIME], cell, cell_index)
            return None
        if msg_type == "display_data" and OUTPUT_MIME in (content.get("data") or {}):
            # nbqueue.output's value: an event for the sidecar, never an output.
            self._emit_output_value(content["data"][OUTPUT_MIME], cell, cell_index)
            return None
        parent_id = msg.get("parent_header", {}).get("msg_id")
        to_widget = bool(self.output_hook_stack.get(parent_id))
        if msg_type == "clear_output" and not to_widget:
            wait = bool(content.get("wait"))
            self.events.emit("clear_output", cell_id=cell["id"], cell_index=cell_index, wait=wait)
        elif msg_type == "update_display_data":
            display_id = (content.get("transient") or {}).get("display_id")
            if display_id:
                output = {
                    "output_type": "display_data",
                    "data": content.get("data", {}),
                    "metadata": content.get("metadata", {}),
                }
                self.events.emit("update_display_data", display_id=display_id, output=output)

        count_before = cell.get("execution_count")
        try:
            out = super().process_message(msg, cell, cell_index)
        finally:
            if cell.get("execution_count") != count_before:
                self._emit_execution_count(cell, cell_index)

        if out is not None:
            fields: dict = {"cell_id": cell["id"], "cell_index": cell_index, "output": out}
            display_id = (content.get("transient") or {}).get("display_id")
            if display_id and out.get("output_type") in DISPLAY_OUTPUT_TYPES:
                fields["display_id"] = display_id
            self.events.emit("output", **fields)
        return out

    def output(
        self, outs: list, msg: dict, display_id: str | None, cell_index: int
    ) -> NotebookNode | None:
        """nbclient's output handling, then a stream output directly after one of the same name
        is merged into it, as JupyterLab's output area does: a loop that prints every step
        leaves one output, not thousands. (Stream outputs never carry a display id, so the
        indices nbclient records for display ids are unaffected.)"""
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None and out.get("output_type") == "stream" and len(outs) >= 2:
            previous = outs[-2]
            if (
                outs[-1] is out
                and previous.get("output_type") == "stream"
                and previous.get("name") == out.get("name")
            ):
                previous["text"] += out["text"]
                outs.pop()
        return out

    # -- helpers ---------------------------------------------------------------------------

    def _emit_points(self, data: object, cell: NotebookNode, cell_index: int) -> None:
        points = data.get("points") if isinstance(data, dict) else None
        for point in points if isinstance(points, list) else ():
            try:
                name, step, value, time_ms = point
            except (TypeError, ValueError):
                continue
            if not (
                isinstance(name, str)
                and 0 < len(name) <= MAX_METRIC_NAME
                and type(step) is int
                and (value is None or type(value) in (int, float))
                and type(time_ms) in (int, float)
            ):
                continue  # only nbqueue.metrics writes this MIME type; skip anything else
            self.events.emit(
                "metric",
                name=name,
                value=value,
                step=step,
                time=time_ms,
                kind="user",
                cell_id=cell["id"],
                cell_index=cell_index,
            )

    def _emit_output_value(self, data: object, cell: NotebookNode, cell_index: int) -> None:
        if not isinstance(data, dict):
            return
        name, value = data.get("name"), data.get("value")
        try:
            encode_value(name, value)  # checked in the kernel too; the notebook could forge one
        except OutputError as error:
            self.events.emit(
                "log",
                level="warning",
                message=str(error),
                cell_id=cell["id"],
                cell_index=cell_index,
            )
            return
        self.events.emit(
            "output_value", name=name, value=value, cell_id=cell["id"], cell_index=cell_index
        )

    def _emit_execution_count(self, cell: NotebookNode, cell_index: int) -> None:
        count = cell.get("execution_count")
        if self._sent_counts.get(cell["id"]) == count:
            return
        self._sent_counts[cell["id"]] = count
        self.events.emit(
            "execution_count", cell_id=cell["id"], cell_index=cell_index, execution_count=count
        )

    def finish_cell(self, status: str) -> None:
        """Send cell_finished for the running cell (also used when a cell is cut short)."""
        if self.running is None:
            return
        cell, index = self.running
        self.running = None
        self.events.emit("cell_finished", cell_id=cell["id"], cell_index=index, status=status)
