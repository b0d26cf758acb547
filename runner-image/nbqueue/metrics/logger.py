"""The metric logger: validates points, keeps the calling cell's chart, ships points to the runner.

`log()` is on the hot path of training loops, so it only validates and appends under a lock;
chart updates and point flushes happen on a timer thread (every 0.1 s), when 1,000 points are
waiting, and at the end of every cell (IPython's `post_run_cell`).
"""

from __future__ import annotations

import contextlib
import math
import operator
import os
import sys
import threading
import time
import warnings
from typing import Callable

from .mime import METRICS_MIME, POINTS_MIME
from .publisher import Publisher, publisher_for_this_process

MAX_NAME_LENGTH = 200
DEFAULT_MAX_METRICS = 1000
FLUSH_SECONDS = 0.1  # points to the runner, and the fastest chart refresh (10 per second)
FLUSH_POINTS = 1000
# A chart update re-sends the whole chart, so big charts refresh less often: at most every
# (points / this) seconds, and never spending more than a tenth of the time encoding.
CHART_POINTS_PER_SECOND = 20_000
MAX_WARNINGS = 10_000


class MetricWarning(UserWarning):
    """A point that was not logged (bad name or value, too many metrics)."""


class _Chart:
    """The chart output of one cell run: every point logged while that cell ran."""

    __slots__ = ("display_id", "parent", "series", "points", "dirty", "next_update")

    def __init__(self, display_id: str, parent: dict | None):
        self.display_id = display_id
        self.parent = parent
        self.series: dict[str, tuple[list, list, list]] = {}
        self.points = 0
        self.dirty = False
        self.next_update = 0.0

    def add(self, name: str, step: int, value: float | None, time_ms: int) -> None:
        series = self.series.get(name)
        if series is None:
            series = self.series[name] = ([], [], [])
        series[0].append(step)
        series[1].append(value)
        series[2].append(time_ms)
        self.points += 1
        self.dirty = True

    def bundle(self) -> dict:
        data = {
            "version": 1,
            "series": [
                {"name": name, "steps": steps, "values": values, "times": times}
                for name, (steps, values, times) in self.series.items()
            ],
        }
        return {METRICS_MIME: data, "text/plain": self.summary()}

    def summary(self) -> str:
        parts = []
        for name, (steps, values, _) in list(self.series.items())[:5]:
            last = values[-1]
            shown = "nan" if last is None else f"{last:.6g}"
            parts.append(f"{name} = {shown} at step {steps[-1]} ({len(steps)} points)")
        more = len(self.series) - len(parts)
        return "nbqueue metrics: " + "; ".join(parts) + (f"; {more} more" if more > 0 else "")


class MetricLogger:
    """Logs points for one process. `publisher` talks to the kernel's frontend (None: keep the
    points only); `in_job` also sends them to the runner as `POINTS_MIME` messages."""

    def __init__(
        self,
        publisher: Publisher | None,
        in_job: bool = False,
        max_metrics: int = DEFAULT_MAX_METRICS,
        clock: Callable[[], float] = time.time,
        timer: bool = True,
    ):
        self.publisher = publisher
        self.in_job = in_job
        self.max_metrics = max_metrics
        self._clock = clock
        self._lock = threading.RLock()
        self._next_step: dict[str, int] = {}
        self._warned: set[tuple[str, str]] = set()
        self._chart: _Chart | None = None
        self._charts = 0
        self._points: list[list] = []
        self._points_parent: dict | None = None
        self._timer_wanted = timer
        self._timer: threading.Thread | None = None

    @classmethod
    def for_this_process(cls) -> MetricLogger:
        try:
            max_metrics = int(os.environ.get("NBQUEUE_MAX_METRICS") or DEFAULT_MAX_METRICS)
        except ValueError:
            max_metrics = DEFAULT_MAX_METRICS
        publisher, shell = publisher_for_this_process()
        logger = cls(
            publisher,
            in_job=bool(os.environ.get("NBQUEUE_JOB_ID")) and publisher is not None,
            max_metrics=max_metrics,
        )
        if shell is not None:
            shell.events.register("post_run_cell", logger.cell_finished)
        return logger

    # -- the hot path ----------------------------------------------------------------------

    def log(self, name: str, value: object, step: object = None) -> None:
        now = self._clock()
        if name not in self._next_step and not self._admit(name):
            return
        kind = type(value)
        if kind is float:
            number = value if math.isfinite(value) else None
        elif kind is int:
            number = self._number(name, value)
            if number is False:
                return
        else:
            number = self._number(name, value)
            if number is False:
                return
        if step is None:
            at = self._next_step[name]
        elif type(step) is int:
            at = step
        else:
            try:
                at = operator.index(step)
            except TypeError:
                self.refuse(
                    f"step:{name}",
                    f"nbqueue: the step of metric {name!r} must be a whole number, not "
                    f"{type(step).__name__}; the point was not logged.",
                    stacklevel=4,
                )
                return
        time_ms = int(now * 1000)
        with self._lock:
            self._next_step[name] = at + 1
            chart = self._chart
            if chart is None:
                chart = self._new_chart()
            chart.add(name, at, number, time_ms)
            if chart.next_update == 0:
                self._show(chart, update=False)
            if self.in_job:
                self._points.append([name, at, number, time_ms])
                if len(self._points) >= FLUSH_POINTS:
                    self._flush_points()
        if self._timer is None and self._timer_wanted:
            self._start_timer()

    def _number(self, name: str, value: object) -> float | int | None | bool:
        """The value as a JSON number, None for NaN/±inf, False when it is not a number."""
        if isinstance(value, (str, bytes)) or not hasattr(type(value), "__float__"):
            number = False
        else:
            try:
                number = float(value)  # numpy and torch scalars, Decimal, bool
            except (TypeError, ValueError, OverflowError):
                number = False
        if number is False:
            self.refuse(
                f"value:{name}",
                f"nbqueue: the value of metric {name!r} must be a number, not "
                f"{type(value).__name__}; the point was not logged.",
            )
            return False
        if not math.isfinite(number):
            return None
        return value if type(value) is int else number

    def _admit(self, name: object) -> bool:
        """A metric name seen for the first time: checked, counted, remembered."""
        if not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH:
            shown = repr(name) if not isinstance(name, str) else repr(name[:40])
            self.refuse(
                f"name:{shown}",
                f"nbqueue: metric names must be text of 1 to {MAX_NAME_LENGTH} characters; "
                f"{shown}{'...' if isinstance(name, str) and len(name) > 40 else ''} "
                "was not logged.",
            )
            return False
        with self._lock:
            if name in self._next_step:
                return True
            if len(self._next_step) >= self.max_metrics:
                self.refuse(
                    "too_many",
                    f"nbqueue: at most {self.max_metrics} distinct metrics can be logged "
                    f"(NBQUEUE_MAX_METRICS); {name!r} and any further new metric are not logged.",
                )
                return False
            self._next_step[name] = 0
        return True

    def refuse(self, key: str, message: str, stacklevel: int = 5) -> None:
        # 5: warnings.warn <- refuse <- a check <- log <- log_metric(s) <- the user's line
        """One warning per kind of problem and metric, never an exception."""
        if key in self._warned or len(self._warned) >= MAX_WARNINGS:
            return
        self._warned.add(key)
        warnings.warn(message, MetricWarning, stacklevel=stacklevel)

    # -- chart and points --------------------------------------------------------------------

    def _new_chart(self) -> _Chart:
        self._charts += 1
        parent = self.publisher.parent() if self.publisher else None
        chart = self._chart = _Chart(f"nbqueue-metrics-{os.getpid()}-{self._charts}", parent)
        return chart

    def _show(self, chart: _Chart, update: bool) -> None:
        chart.dirty = False
        if self.publisher is None:
            return
        started = time.monotonic()
        if not update:
            # Whatever the cell printed before its first point comes before the chart.
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
        self.publisher.display(chart.bundle(), chart.display_id, chart.parent, update=update)
        spent = time.monotonic() - started
        chart.next_update = (
            time.monotonic()
            + max(FLUSH_SECONDS, 10 * spent, chart.points / CHART_POINTS_PER_SECOND)
            - 0.005  # timer ticks are not exact; don't skip one for a few ms
        )

    def _flush_points(self) -> None:
        if not self._points or self.publisher is None:
            self._points = []
            return
        points, self._points = self._points, []
        chart = self._chart
        parent = chart.parent if chart is not None else self._points_parent
        self.publisher.display(
            {POINTS_MIME: {"version": 1, "points": points}}, None, parent, update=False
        )

    def flush(self, final: bool = False) -> None:
        """Sends waiting points and refreshes the chart when due (always when `final`)."""
        with self._lock:
            chart = self._chart
            if chart is not None and chart.dirty:
                shown = chart.next_update > 0
                if not shown or final or time.monotonic() >= chart.next_update:
                    self._show(chart, update=shown)
            self._flush_points()

    def cell_finished(self, result: object = None) -> None:
        """IPython `post_run_cell`: the cell's last points and final chart, then a new chart
        for the next cell that logs."""
        with self._lock:
            self.flush(final=True)
            self._chart = None

    def _start_timer(self) -> None:
        with self._lock:
            if self._timer is not None:
                return
            self._timer = threading.Thread(
                target=self._tick_forever, name="nbqueue-metrics", daemon=True
            )
            self._timer.start()

    def _tick_forever(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            try:
                self.flush()
            except Exception:  # a closed kernel socket at shutdown: nothing to report to
                return
