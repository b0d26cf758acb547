"""The background thread that ships events to the sidecar in batches, in seq order."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from typing import Callable

from .events import fit_event
from .sidecar_client import SidecarClient, SidecarError, SidecarRejected

log = logging.getLogger("nbqueue.runner")

MAX_BATCH_EVENTS = 500
MAX_BATCH_BYTES = 1_000_000
# Resends in a row of events the sidecar did not take, before the sender stops resending them.
MAX_RESENDS = 8
# What an event the sidecar refused as too large (413) is cut to before it goes again.
REFUSED_EVENT_BYTES = 4096


class EventSender:
    """Queues encoded events and POSTs whatever is queued as soon as the line is free.

    The thread sleeps on a condition, so an event emitted while nothing is in flight leaves at
    once; events emitted during a POST go together in the next one (at most 500 events or about
    1 MB per POST; one larger event goes alone). A batch is retried as is until the sidecar takes
    it (the sidecar stores each seq once), so nothing is dropped or sent twice in another batch.

    The answer's `last_seq` is the sidecar's gap-free mark: when it is behind what the batch
    carried (a lost commit), the events after it are sent again, up to MAX_RESENDS times in a
    row, so the job's stream cannot stall. An event refused as too large (413) goes again cut
    to a few KB with a note, instead of the job being given up.
    """

    def __init__(
        self,
        client: SidecarClient,
        on_cancel: Callable[[], None],
        on_failure: Callable[[SidecarError], None],
        max_events: int = MAX_BATCH_EVENTS,
        max_bytes: int = MAX_BATCH_BYTES,
        sleep: Callable[[float], object] = time.sleep,
    ):
        self._client = client
        self._on_cancel = on_cancel
        self._on_failure = on_failure
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._sleep = sleep
        self._cond = threading.Condition()
        self._pending: deque[tuple[int, bytes]] = deque()
        self._closing = False
        self.error: SidecarError | None = None
        self.delivered_seq = 0
        self.resent = 0  # events sent again because the sidecar's mark was behind
        self._stalled = 0  # resends in a row that left the sidecar's mark behind
        self._thread = threading.Thread(target=self._run, name="nbqueue-event-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def send(self, seq: int, encoded: bytes) -> None:
        with self._cond:
            if self.error is None:
                self._pending.append((seq, encoded))
                self._cond.notify()

    def close(self, timeout: float | None = None) -> bool:
        """Deliver everything queued, stop the thread; True when all was delivered."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread.is_alive() or self._thread.ident is not None:
            self._thread.join(timeout)
        return self.error is None and not self._pending and not self._thread.is_alive()

    def _next_batch(self) -> tuple[list[int], list[bytes]] | None:
        with self._cond:
            while not self._pending and not self._closing:
                self._cond.wait()
            if not self._pending:
                return None
            seqs: list[int] = []
            parts: list[bytes] = []
            size = 0
            for seq, encoded in self._pending:
                if seqs and (
                    len(seqs) >= self._max_events or size + len(encoded) > self._max_bytes
                ):
                    break
                seqs.append(seq)
                parts.append(encoded)
                size += len(encoded) + 1
            return seqs, parts

    def _post(self, seqs: list[int], parts: list[bytes]) -> dict:
        try:
            return self._client.post_events(b'{"events":[' + b",".join(parts) + b"]}")
        except SidecarRejected as error:
            if error.status != 413:
                raise
        # Too large for the sidecar: each event alone, and one still refused cut to a note.
        if len(parts) > 1:
            answer: dict = {}
            for seq, part in zip(seqs, parts):
                answer = self._post([seq], [part])
            return answer
        event = json.loads(parts[0])
        log.warning("the sidecar refused event %d as too large; sending it cut", seqs[0])
        _, cut = fit_event(event, parts[0], REFUSED_EVENT_BYTES)
        return self._client.post_events(b'{"events":[' + cut + b"]}")

    def _requeue_missing(self, seqs: list[int], parts: list[bytes], last_seq: object) -> None:
        """Called under the lock with the batch just answered: puts back the events after the
        sidecar's mark when the mark is behind and the gap starts in this batch."""
        if not isinstance(last_seq, int) or last_seq >= seqs[-1]:
            self._stalled = 0
            return
        missing = [(seq, part) for seq, part in zip(seqs, parts) if seq > last_seq]
        if missing[0][0] != last_seq + 1 or self._stalled >= MAX_RESENDS:
            log.warning(
                "the sidecar holds events only up to seq %d after receiving up to %d",
                last_seq,
                seqs[-1],
            )
            return
        self._stalled += 1
        self.resent += len(missing)
        log.warning(
            "the sidecar holds events only up to seq %d after receiving up to %d; "
            "sending %d-%d again",
            last_seq,
            seqs[-1],
            missing[0][0],
            seqs[-1],
        )
        self._pending.extendleft(reversed(missing))

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            seqs, parts = batch
            if self._stalled:  # a resend: give a struggling sidecar a moment
                self._sleep(min(0.05 * 2**self._stalled, 2.0))
            try:
                answer = self._post(seqs, parts)
            except SidecarError as error:
                log.error("could not deliver events %d-%d: %s", seqs[0], seqs[-1], error)
                with self._cond:
                    self.error = error
                self._on_failure(error)
                return
            with self._cond:
                for _ in seqs:
                    self._pending.popleft()
                self.delivered_seq = seqs[-1]
                self._requeue_missing(seqs, parts, answer.get("last_seq"))
            if answer.get("cancel"):
                self._on_cancel()
