"""`python -m nbqueue.runner`: run the job named by NBQUEUE_JOB_ID against NBQUEUE_URL.

Exit status: 0 once the finish was delivered (whatever the job's outcome), 2 when the sidecar
refused the runner (bad token, unknown job), 3 when it stayed unreachable for longer than
NBQUEUE_RETRY_SECONDS (default 600).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from .job import EXIT_REJECTED, Runner
from .sidecar_client import SidecarClient


def main() -> int:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s nbqueue-runner %(levelname)s %(message)s",
    )
    log = logging.getLogger("nbqueue.runner")
    missing = [
        n for n in ("NBQUEUE_URL", "NBQUEUE_JOB_ID", "NBQUEUE_JOB_TOKEN") if not os.environ.get(n)
    ]
    if missing:
        log.error("missing environment: %s (the nbqueue backend sets them)", ", ".join(missing))
        return EXIT_REJECTED
    try:
        retry_seconds = float(os.environ.get("NBQUEUE_RETRY_SECONDS") or 600)
    except ValueError:
        log.error("NBQUEUE_RETRY_SECONDS must be a number of seconds")
        return EXIT_REJECTED

    client = SidecarClient(
        os.environ["NBQUEUE_URL"],
        os.environ["NBQUEUE_JOB_ID"],
        os.environ["NBQUEUE_JOB_TOKEN"],
        retry_seconds=retry_seconds,
    )
    runner = Runner(client, cwd=os.getcwd())

    # The job runs in a worker thread so that this (main) thread, which alone receives
    # signals, never holds a lock the cancel path needs.
    def on_signal(signum: int, frame: object) -> None:
        runner.request_cancel(signal.Signals(signum).name)

    def on_sigterm(signum: int, frame: object) -> None:
        # The notebook's on_preempt callbacks run first (nbqueue.checkpoint), which may take
        # a while: not in the signal handler.
        threading.Thread(target=runner.stop, args=("SIGTERM",), daemon=True).start()

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_signal)

    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(runner.run()), name="nbqueue-job")
    worker.start()
    worker.join()
    return result[0] if result else 1


if __name__ == "__main__":
    sys.exit(main())
