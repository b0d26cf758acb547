"""`python -m nbqueue.runner`: run the job named by NBQUEUE_JOB_ID against NBQUEUE_URL.

Exit status: 0 once the finish was delivered (whatever the job's outcome), 2 when the sidecar
refused the runner (bad token, unknown job), 3 when it stayed unreachable for longer than
NBQUEUE_RETRY_SECONDS (default 600).

The job's kernel starts at once, while the job is fetched (nbqueue.runner.early_kernel). With
NBQUEUE_WARM=1 (the local backend's warm runners, backend.local.warm_kernels) the runner starts
its kernel and then waits for its job on stdin: one JSON line {"job_id", "token", "cwd"}; the
end of stdin before it (the sidecar gone or the warm runner no longer wanted) ends it, status 0.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading

# Only what starts the kernel is imported before it starts: the job's modules (nbclient,
# nbformat, jsonschema) take seconds to import on a busy machine, while the kernel starts.
from .early_kernel import start_early_kernel

EXIT_REJECTED = 2  # as job.EXIT_REJECTED (imported once the kernel is starting)


def wait_for_job() -> bool:
    """A warm runner: reads its job from stdin into the environment and folder a runner started
    for it has (False: stdin ended first). SIGTERM meanwhile ends the runner."""
    log = logging.getLogger("nbqueue.runner")

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        line = sys.stdin.readline()
    except (SystemExit, OSError):
        line = ""
    if not line.strip():
        log.info("no job was handed over; stopping")
        return False
    try:
        job = json.loads(line)
        job_id, token, cwd = str(job["job_id"]), str(job["token"]), str(job["cwd"])
        os.chdir(cwd)
    except (ValueError, KeyError, TypeError, OSError) as error:
        log.error("the job handed over is not valid (%s); stopping", error)
        return False
    os.environ["NBQUEUE_JOB_ID"] = job_id
    os.environ["NBQUEUE_JOB_TOKEN"] = token
    log.info("job %s handed over", job_id)
    return True


def main() -> int:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s nbqueue-runner %(levelname)s %(message)s",
    )
    log = logging.getLogger("nbqueue.runner")
    # Not passed on to the kernel: a warm runner's job sees what a runner started for it would.
    warm = os.environ.pop("NBQUEUE_WARM", "") == "1"
    needed = ("NBQUEUE_URL",) if warm else ("NBQUEUE_URL", "NBQUEUE_JOB_ID", "NBQUEUE_JOB_TOKEN")
    missing = [n for n in needed if not os.environ.get(n)]
    if missing:
        log.error("missing environment: %s (the nbqueue backend sets them)", ", ".join(missing))
        return EXIT_REJECTED
    try:
        retry_seconds = float(os.environ.get("NBQUEUE_RETRY_SECONDS") or 600)
    except ValueError:
        log.error("NBQUEUE_RETRY_SECONDS must be a number of seconds")
        return EXIT_REJECTED
    # The kernel starts now, while the job is fetched (or, warm, before it is handed over).
    early = start_early_kernel()
    # jsonschema (through nbformat) imports rfc3987_syntax where it is installed, which builds
    # a grammar as it is imported (seconds on a busy machine) for the `iri` string formats;
    # nbformat checks no formats, so the runner does without it (its kernel is unaffected).
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
    from .job import Runner
    from .sidecar_client import SidecarClient

    if warm and not wait_for_job():
        if early is not None:
            early.discard()
        return 0

    client = SidecarClient(
        os.environ["NBQUEUE_URL"],
        os.environ["NBQUEUE_JOB_ID"],
        os.environ["NBQUEUE_JOB_TOKEN"],
        retry_seconds=retry_seconds,
    )
    runner = Runner(client, cwd=os.getcwd(), early=early)

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
