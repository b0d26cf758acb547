"""HTTP calls to the sidecar's runner API (standard library only), retried while it is away."""

from __future__ import annotations

import http.client
import json
import logging
import os
import shutil
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Callable

log = logging.getLogger("nbqueue.runner")

FIRST_DELAY = 0.1
MAX_DELAY = 2.0
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


class SidecarError(Exception):
    """The sidecar could not be told something."""


class SidecarRejected(SidecarError):
    """A 4xx answer: sending the same request again will not help."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"The sidecar answered {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class SidecarUnreachable(SidecarError):
    """The sidecar stayed unreachable (or kept failing) for the whole retry window."""


class _Transient(Exception):
    pass


class SidecarClient:
    """The runner API of docs/protocol.md for one job, authenticated with its job token.

    Every call is retried with backoff (0.1 s doubling to 2 s) while the sidecar is unreachable
    or answers 5xx, for up to `retry_seconds`; the runner API is idempotent, so a retry resends
    exactly the same request.
    """

    def __init__(
        self,
        url: str,
        job_id: str,
        token: str,
        retry_seconds: float = 600.0,
        request_timeout: float = 30.0,
        sleep: Callable[[float], object] | None = None,
    ):
        self.base = url.rstrip("/") + "/api/runner/jobs/" + job_id
        self.token = token
        self.retry_seconds = retry_seconds
        self.request_timeout = request_timeout
        self._sleep = sleep or threading.Event().wait

    def get_job(self) -> dict:
        return self._call("GET", "", None)

    def post_events(self, body: bytes) -> dict:
        """`body` is the encoded `{"events": [...]}` (encoded once, resent as is)."""
        return self._call("POST", "/events", body)

    def upload_result(self, path: str) -> dict:
        """Streams the executed notebook file `path` (PUT …/result, its own size limit); the
        answer `{"bytes", "sha256"}` is what the finish names."""
        return self._call(
            "PUT",
            "/result",
            None,
            upload=path,
            headers={"Content-Type": "application/x-ipynb+json"},
            # The sidecar checks the notebook as it writes it to disk: a large one takes a while.
            timeout=max(self.request_timeout, 300.0),
        )

    def finish(
        self,
        state: str,
        reason: str | None,
        *,
        result: dict | None = None,
        notebook: dict | None = None,
    ) -> dict:
        """The outcome, naming the uploaded `result`; `notebook` inline only for a sidecar
        without the result upload (its finish body is limited to limits.max_request_bytes)."""
        payload: dict = {"state": state, "reason": reason}
        if result is not None:
            payload["result"] = result
        if notebook is not None:
            payload["notebook"] = notebook
        return self._call("POST", "/finish", json.dumps(payload, default=str).encode("utf-8"))

    # Working files (nbqueue.files.job): the plan, the input bundle, the output files.
    def get_files(self) -> dict:
        return self._call("GET", "/files", None)

    def download_input(self, dest: str) -> None:
        """Writes the job's input bundle (tar.gz) to the file `dest`."""
        self._call("GET", "/files/input", None, save_to=dest)

    def upload_output(self, archive: str, left_out: str) -> dict:
        """Sends the tar.gz file `archive`; `left_out` is the X-Nbqueue-Left-Out header."""
        return self._call(
            "PUT",
            "/files/output",
            None,
            upload=archive,
            headers={"Content-Type": "application/gzip", "X-Nbqueue-Left-Out": left_out},
        )

    # Checkpoints (nbqueue.checkpoint): the plan, a save streamed, one fetched to restore it.
    def get_checkpoints(self) -> dict:
        return self._call("GET", "/checkpoints", None)

    def upload_checkpoint(self, body) -> dict:
        """Streams `body` (nbqueue.checkpoint.stream.Body); answers the stored checkpoint."""
        query = urllib.parse.urlencode({"name": body.name, "kind": body.kind})
        return self._call(
            "POST",
            f"/checkpoints?{query}",
            None,
            stream=(body.chunks, body.length),
            headers={
                "Content-Type": "application/x-tar"
                if body.kind == "folder"
                else "application/octet-stream"
            },
            # The sidecar answers once the whole checkpoint is on its disk (a folder checked).
            timeout=max(self.request_timeout, 600.0),
        )

    def download_checkpoint(self, seq: int, dest: str) -> None:
        self._call("GET", f"/checkpoints/{int(seq)}", None, save_to=dest)

    def _call(
        self,
        method: str,
        path: str,
        body: bytes | None,
        *,
        upload: str | None = None,
        save_to: str | None = None,
        headers: dict[str, str] | None = None,
        stream: tuple[Callable[[], Iterable[bytes]], int] | None = None,
        timeout: float | None = None,
    ) -> dict:
        deadline = None
        delay = FIRST_DELAY
        last_report = 0.0
        while True:
            try:
                return self._request(
                    method,
                    path,
                    body,
                    upload=upload,
                    save_to=save_to,
                    headers=headers,
                    stream=stream,
                    timeout=timeout,
                )
            except _Transient as problem:
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.retry_seconds
                if now >= deadline:
                    raise SidecarUnreachable(
                        f"The sidecar at {self.base} was unreachable for "
                        f"{self.retry_seconds:g} s ({problem})."
                    ) from None
                if now - last_report >= 30:
                    last_report = now
                    log.warning(
                        "sidecar unreachable (%s); retrying %s %s for up to %g s",
                        problem,
                        method,
                        path or "/",
                        self.retry_seconds,
                    )
                self._sleep(min(delay, max(0.0, deadline - now)))
                delay = min(delay * 2, MAX_DELAY)

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None,
        *,
        upload: str | None = None,
        save_to: str | None = None,
        headers: dict[str, str] | None = None,
        stream: tuple[Callable[[], Iterable[bytes]], int] | None = None,
        timeout: float | None = None,
    ) -> dict:
        data = body
        if upload is not None:  # a file, streamed, reopened for each retry
            data = open(upload, "rb")  # noqa: SIM115 (closed in the finally below)
        elif stream is not None:  # chunks made afresh for each retry, of a known length
            data = stream[0]()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if upload is not None:
            request.add_header("Content-Length", str(os.path.getsize(upload)))
        if stream is not None:
            request.add_header("Content-Length", str(stream[1]))
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.request_timeout) as answer:
                if save_to is not None:
                    with open(save_to, "wb") as out:
                        shutil.copyfileobj(answer, out, 1024 * 1024)
                    return {}
                raw = answer.read()
        except urllib.error.HTTPError as error:
            detail = _error_detail(error)
            if error.code in RETRYABLE_STATUS:
                raise _Transient(f"HTTP {error.code} {detail[1]}") from None
            raise SidecarRejected(error.code, detail[0], detail[1]) from None
        except (
            urllib.error.URLError,
            http.client.HTTPException,
            ConnectionError,
            socket.timeout,
            TimeoutError,
            OSError,
        ) as error:
            raise _Transient(f"{type(error).__name__}: {error}") from None
        finally:
            if upload is not None or stream is not None:
                data.close()
        try:
            return json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise _Transient("the answer was not JSON") from None


def _error_detail(error: urllib.error.HTTPError) -> tuple[str, str]:
    try:
        payload = json.loads(error.read() or b"{}")
        return str(payload["error"]["code"]), str(payload["error"]["message"])
    except Exception:
        return "http_error", str(error.reason)
