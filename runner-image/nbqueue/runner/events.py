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


# The sidecar's limit on one event when it does not say (docs/protocol.md: 1 MB less 16 KB).
DEFAULT_MAX_EVENT_BYTES = 1024 * 1024 - 16 * 1024
# Room kept for the note that says how much was cut.
_NOTE_ROOM = 96


def _json_bytes(value: object) -> int:
    return len(encode(value))  # type: ignore[arg-type]


def cut_text(text: str, budget: int) -> str:
    """The longest start of `text` whose JSON string fits `budget` bytes, then
    "… [truncated N bytes]" (N: the UTF-8 bytes left out)."""
    budget -= _NOTE_ROOM
    n = min(len(text), max(0, budget))
    while n > 0:
        size = _json_bytes(text[:n])
        if size <= budget:
            break
        n = n * budget // size - 1
    kept = text[: max(0, n)]
    left = len(text.encode("utf-8", "surrogatepass")) - len(kept.encode("utf-8", "surrogatepass"))
    return f"{kept}… [truncated {left} bytes]\n"


def live_output(output: dict, size: int, limit: int) -> dict:
    """What the live view gets of an output whose event would pass the sidecar's limit on one
    event (`limit`: bytes left for the output): a stream's start ending "… [truncated N bytes]",
    or a text note for anything else. The result notebook keeps it whole."""
    if output.get("output_type") == "stream":
        rest = _json_bytes({**output, "text": ""})
        return {**output, "text": cut_text(str(output.get("text", "")), limit - rest)}
    note = (
        f"[nbqueue: this output is {size / 1_000_000:.1f} MB, too large to show live; "
        "open the result to see it]"
    )
    shown = {"output_type": output.get("output_type", "display_data"), "metadata": {}}
    if shown["output_type"] == "error":
        ename = str(output.get("ename", ""))[:200]
        return {"output_type": "error", "ename": ename, "evalue": note, "traceback": [note]}
    if shown["output_type"] == "execute_result":
        shown["execution_count"] = output.get("execution_count")
    else:
        shown["output_type"] = "display_data"
    return {**shown, "data": {"text/plain": note}}


def fit_event(event: dict, encoded: bytes, limit: int) -> tuple[dict, bytes]:
    """An event that fits `limit` bytes: itself when it does, else a cut copy with the same seq.
    Outputs as `live_output` says, a log's message cut with a note, anything else a `log`
    warning saying what was left out (the sidecar cuts the same way: server/src/events/fit.ts)."""
    if len(encoded) <= limit:
        return event, encoded
    fitted: dict | None = None
    if isinstance(event.get("output"), dict):
        rest = _json_bytes({**event, "output": {}})
        fitted = {**event, "output": live_output(event["output"], len(encoded), limit - rest)}
    elif event.get("type") == "log" and isinstance(event.get("message"), str):
        rest = _json_bytes({**event, "message": ""})
        fitted = {**event, "message": cut_text(event["message"], limit - rest)}
    if fitted is not None:
        again = encode(fitted)
        if len(again) <= limit:
            return fitted, again
    note = {
        "seq": event["seq"],
        "time": event["time"],
        "type": "log",
        "level": "warning",
        "message": (
            f"Event {event['seq']} ({str(event.get('type'))[:40]}) was {len(encoded)} bytes, "
            f"over the limit of {limit} bytes on one event, and is not shown live; "
            "the result notebook has its output."
        ),
    }
    if isinstance(event.get("cell_id"), str) and len(event["cell_id"]) <= 256:
        note["cell_id"] = event["cell_id"]
        if "cell_index" in event:
            note["cell_index"] = event["cell_index"]
    return note, encode(note)


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
        # The sidecar's limit on one event (its runner payload says).
        self.max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES

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
            event, encoded = fit_event(event, encode(event), self.max_event_bytes)
            self._sink(self._seq, encoded)
        return event
