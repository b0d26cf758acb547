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


def live_output(output: dict, size: int, limit: int) -> dict:
    """What the live view gets of an output whose event would pass the sidecar's limit on one
    event: a stream's start, or a note for anything else. The result notebook keeps it whole."""
    megabytes = f"{size / 1_000_000:.1f} MB"
    if output.get("output_type") == "stream":
        # JSON may spend up to 12 bytes on a character (a surrogate pair, each half escaped).
        text = str(output.get("text", ""))[: max(limit // 16, 1)]
        note = (
            f"\n[nbqueue: this output is {megabytes}; the live view shows its start, "
            "the result holds all of it]\n"
        )
        return {**output, "text": text + note}
    note = (
        f"[nbqueue: this output is {megabytes}, too large to show live; open the result to see it]"
    )
    shown = {"output_type": output.get("output_type", "display_data"), "metadata": {}}
    if shown["output_type"] == "error":
        return {**shown, "ename": output.get("ename", ""), "evalue": note, "traceback": [note]}
    if shown["output_type"] == "execute_result":
        shown["execution_count"] = output.get("execution_count")
    return {**shown, "data": {"text/plain": note}}


class EventLog:
    """Gives each event the job's next `seq` (from 1, or from where an earlier attempt of the job
    stopped: `continue_from`; no gaps) and its time, then hands it on.

    `sink(seq, encoded)` is called under the lock, so the sink sees events in seq order even
    when several threads emit.
    """

    def __init__(self, sink: Callable[[int, bytes], None], clock: Callable[[], float] = time.time):
        self._sink = sink
        self._clock = clock
        self._lock = threading.Lock()
        self._seq = 0
        # The sidecar's limit on one event (its runner payload says; None: no limit known).
        self.max_event_bytes: int | None = None

    @property
    def last_seq(self) -> int:
        return self._seq

    def continue_from(self, first_seq: object) -> None:
        """Numbers the next event `first_seq` (the sidecar's fetch answer): a restarted job's
        attempt goes on after the events its earlier attempts left. Only before any event."""
        if isinstance(first_seq, int) and not isinstance(first_seq, bool) and first_seq > 1:
            with self._lock:
                if self._seq == 0:
                    self._seq = first_seq - 1

    def emit(self, type: str, **fields: object) -> dict:
        with self._lock:
            self._seq += 1
            event = {"seq": self._seq, "time": int(self._clock() * 1000), "type": type, **fields}
            encoded = encode(event)
            limit = self.max_event_bytes
            if limit and len(encoded) > limit and isinstance(event.get("output"), dict):
                event["output"] = live_output(event["output"], len(encoded), limit)
                encoded = encode(event)
            self._sink(self._seq, encoded)
        return event
