"""An event over the sidecar's limit on one event is cut with a note, never refused whole."""

from __future__ import annotations

import json
import re

from nbqueue.runner.events import DEFAULT_MAX_EVENT_BYTES, EventLog


def emitted(limit: int | None = None):
    sent: list[bytes] = []
    log = EventLog(lambda seq, encoded: sent.append(encoded))
    if limit is not None:
        log.max_event_bytes = limit
    return log, sent


def test_every_kind_of_event_is_cut_to_the_limit():
    log, sent = emitted(10_000)
    log.emit("log", level="info", message="é" * 20_000)
    stream = {"output_type": "stream", "name": "stdout", "text": "y" * 50_000}
    log.emit("output", cell_id="c", cell_index=0, output=stream)
    image = {"output_type": "display_data", "data": {"image/png": "A" * 50_000}, "metadata": {}}
    log.emit("output", cell_id="c", cell_index=0, output=image)
    log.emit("update_display_data", display_id="d", output=image)
    log.emit("output_value", name="v", value="z" * 50_000, cell_id="c", cell_index=0)
    log.emit("log", level="info", message="small")
    assert all(len(encoded) <= 10_000 for encoded in sent)
    events = [json.loads(encoded) for encoded in sent]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5, 6]

    cut = re.fullmatch(r"(é+)… \[truncated (\d+) bytes\]\n", events[0]["message"])
    assert cut and 2 * len(cut[1]) + int(cut[2]) == 40_000  # é is 2 bytes of UTF-8
    cut = re.fullmatch(r"(y+)… \[truncated (\d+) bytes\]\n", events[1]["output"]["text"])
    assert cut and len(cut[1]) > 9_000 and len(cut[1]) + int(cut[2]) == 50_000
    note = "[nbqueue: this output is 0.1 MB, too large to show live; open the result to see it]"
    assert events[2]["output"] == {
        "output_type": "display_data",
        "metadata": {},
        "data": {"text/plain": note},
    }
    assert events[3]["type"] == "update_display_data"
    assert events[3]["output"]["data"] == {"text/plain": note}
    assert events[4]["type"] == "log" and events[4]["level"] == "warning"
    assert events[4]["cell_id"] == "c"
    assert events[4]["message"].startswith("Event 5 (output_value) was ")
    assert events[5]["message"] == "small"


def test_without_a_limit_from_the_sidecar_the_protocols_limit_applies():
    log, sent = emitted()
    log.emit("log", level="info", message="m" * 2_000_000)
    assert DEFAULT_MAX_EVENT_BYTES == 1024 * 1024 - 16 * 1024
    assert len(sent[0]) <= DEFAULT_MAX_EVENT_BYTES
    assert json.loads(sent[0])["message"].endswith(" bytes]\n")
