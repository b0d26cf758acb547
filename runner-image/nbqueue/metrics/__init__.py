"""`nbqueue.log_metric` / `nbqueue.log_metrics`: numbers logged from a notebook become a chart.

In any IPython kernel the calling cell shows a chart output (`METRICS_MIME`, see
docs/protocol.md) that grows as points are logged. Inside a job (the runner gives its kernel
`NBQUEUE_JOB_ID`), the points also travel to the runner as `POINTS_MIME` display messages,
which the runner turns into `metric` events and keeps out of the notebook.
"""

from __future__ import annotations

from .logger import MetricLogger, MetricWarning
from .mime import METRICS_MIME, POINTS_MIME

_logger: MetricLogger | None = None


def default_logger() -> MetricLogger:
    global _logger
    if _logger is None:
        _logger = MetricLogger.for_this_process()
    return _logger


def log_metric(name: str, value: float, step: int | None = None) -> None:
    """Log one point of metric `name`. `step` defaults to the metric's previous step + 1
    (0 for its first point). A bad name or value gives a warning, never an exception."""
    (_logger or default_logger()).log(name, value, step)


def log_metrics(values: dict, step: int | None = None) -> None:
    """Log several metrics at once, all at `step` when given (else each at its own next step)."""
    logger = _logger or default_logger()
    try:
        items = list(values.items())
    except AttributeError:
        logger.refuse("values", "log_metrics expects a dict of {name: value}.", stacklevel=3)
        return
    for name, value in items:
        logger.log(name, value, step)


__all__ = [
    "METRICS_MIME",
    "POINTS_MIME",
    "MetricLogger",
    "MetricWarning",
    "default_logger",
    "log_metric",
    "log_metrics",
]
