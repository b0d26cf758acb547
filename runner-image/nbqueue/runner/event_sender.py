"""The background thread that ships events to the sidecar in batches, in seq order."""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Callable

from .sidecar_client import SidecarClient, SidecarError

log = logging.getLogger("nbqueue.runner")

MAX_BATCH_EVENTS = 500
MAX_BATCH_BYTES = 1_000_000


class EventSender:
    """Queues encoded events and POSTs whatever is queued as soon as the line is free.

    The thread sleeps on a condition, so an event emitted while nothing is in flight leaves at
    once; events emitted during a POST go together in the next one (at most 500 events or about
    1 MB per POST; one larger event goes alone). A batch is retried as is until the sidecar takes
    it (the sidecar stores each seq once), so nothing is dropped or sent twice in another batch.
    """

    def __init__(
        self,
        client: SidecarClient,
        on_cancel: Callable[[], None],
        on_failure: Callable[[SidecarError], None],
        max_events: int = MAX_BATCH_EVENTS,
        max_bytes: int = MAX_BATCH_BYTES,
    ):
        self._client = client
        self._on_cancel = on_cancel
        self._on_failure = on_failure
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._cond = threading.Condition()
        self._pending: deque[tuple[int, bytes]] = deque()
        self._closing = False
        self.error: SidecarError | None = None
        self.delivered_seq = 0
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

    def _next_batch(self) -> tuple[list[int], bytes] | None:
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
            return seqs, b'{"events":[' + b",".join(parts) + b"]}"

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            seqs, body = batch
            try:
                answer = self._client.post_events(body)
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
            last_seq = answer.get("last_seq")
            if isinstance(last_seq, int) and last_seq < seqs[-1]:
                log.warning(
                    "the sidecar holds events only up to seq %d after receiving up to %d",
                    last_seq,
                    seqs[-1],
                )
            if answer.get("cancel"):
                self._on_cancel()
