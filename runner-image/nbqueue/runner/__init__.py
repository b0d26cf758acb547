"""The nbqueue runner: executes one job's notebook next to its kernel and streams it back.

Run as `python -m nbqueue.runner` with `NBQUEUE_URL`, `NBQUEUE_JOB_ID` and `NBQUEUE_JOB_TOKEN`
set (see docs/protocol.md, "Runner process contract").
"""
