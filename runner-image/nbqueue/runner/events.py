"""Numbering and encoding of a job's events (server/schema/events.schema.json)."""

from __future__ import annotations

import json
import math
import threading
import time
from typing import Callable


def _finite(value: object) -> object:
    """JSON has no NaN or infinities: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def encode(event: dict) -> bytes:
    try:
        text = json.dumps(event, allow_nan=False, separators=(",", ":"), default=str)
    except ValueError:
        text = json.dumps(_finite(event), separators=(",", ":"), default=str)
    return text.encode("utf-8")


class EventLog:
    """Gives each event the job's next `seq` (from 1, no gaps) and its time, then hands it on.

    `sink(seq, encoded)` is called under the lock, so the sink sees events in seq order even
    when several threads emit.
    """

    def __init__(self, sink: Callable[[int, bytes], None], clock: Callable[[], float] = time.time):
        self._sink = sink
        self._clock = clock
        self._lock = threading.Lock()
        self._seq = 0

    @property
    def last_seq(self) -> int:
        return self._seq

    def emit(self, type: str, **fields: object) -> dict:
        with self._lock:
            self._seq += 1
            event = {"seq": self._seq, "time": int(self._clock() * 1000), "type": type, **fields}
            self._sink(self._seq, encode(event))
        return event
