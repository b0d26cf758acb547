"""Events reach the sidecar complete, in order and once, even when it is away for a while."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from nbqueue.runner.event_sender import MAX_RESENDS, REFUSED_EVENT_BYTES, EventSender
from nbqueue.runner.events import EventLog
from nbqueue.runner.sidecar_client import (
    SidecarClient,
    SidecarError,
    SidecarRejected,
    SidecarUnreachable,
)

from conftest import FakeSidecar, make_notebook, run_runner, start_runner, wait_for

PRINTS = make_notebook(
    "for i in range(50):\n    print(i)",
    "print('done')",
)


def assert_complete(sidecar: FakeSidecar) -> list[dict]:
    events = sidecar.ordered_events()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    texts = "".join(
        e["output"]["text"] for e in events if e["type"] == "output" and e["cell_id"] == "cell-0"
    )
    assert texts == "".join(f"{i}\n" for i in range(50))
    return events


@pytest.mark.parametrize("mode", ["503", "close"])
def test_sidecar_failing_first_posts_loses_and_duplicates_nothing(tmp_path, mode):
    with FakeSidecar(PRINTS, failures=[mode] * 4) as sidecar:
        code, log = run_runner(sidecar.url, tmp_path)
        assert code == 0, log
        assert sidecar.attempts >= 5
        events = assert_complete(sidecar)
        accepted = [seq for batch in sidecar.received for seq in batch]
        assert sorted(accepted) == [e["seq"] for e in events]  # each seq accepted exactly once
        assert sidecar.finishes[0]["state"] == "succeeded"


def test_unreachable_sidecar_exits_non_zero_after_retry_window(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    code, log = run_runner(f"http://127.0.0.1:{port}", tmp_path, NBQUEUE_RETRY_SECONDS="1")
    assert code == 3, log
    assert time.monotonic() - started < 15
    assert "unreachable" in log


def test_sidecar_gone_mid_run_exits_non_zero_and_stops_the_job(tmp_path):
    nb = make_notebook(
        "import time\nfor i in range(600):\n    print(i, flush=True)\n    time.sleep(0.1)"
    )
    sidecar = FakeSidecar(nb, grace=1)
    sidecar.__enter__()
    process = start_runner(sidecar.url, tmp_path, NBQUEUE_RETRY_SECONDS="1")
    try:
        wait_for(lambda: sidecar.has_event(lambda e: e["type"] == "output"), what="first output")
        sidecar.__exit__()
        # the next events POST fails for 1 s: the runner stops the job and gives up
        assert process.wait(timeout=20) == 3
    finally:
        if process.poll() is None:
            process.kill()
        log = process.communicate()[0]
    assert "unreachable" in log


class ScriptedClient:
    """In-process stand-in for SidecarClient: records the batches it is given."""

    def __init__(self, answers=None):
        self.batches: list[bytes] = []
        self.taken: list[bytes] = []  # batches handed in, delivered or still in flight
        self.answers = list(answers or [])
        self.gate = threading.Event()
        self.gate.set()

    def post_events(self, body: bytes) -> dict:
        self.taken.append(body)
        self.gate.wait()
        self.batches.append(body)
        answer = self.answers.pop(0) if self.answers else {}
        if isinstance(answer, Exception):
            raise answer
        return answer


def decode(batch: bytes) -> list[int]:
    import json

    return [e["seq"] for e in json.loads(batch)["events"]]


def test_sender_batches_by_count_and_size():
    client = ScriptedClient()
    sender = EventSender(client, on_cancel=lambda: None, on_failure=lambda e: None)
    log = EventLog(sender.send)
    for i in range(1200):
        log.emit("log", level="info", message=str(i))
    sender.start()
    assert sender.close(timeout=10)
    assert [len(decode(b)) for b in client.batches] == [500, 500, 200]
    assert [s for b in client.batches for s in decode(b)] == list(range(1, 1201))

    client = ScriptedClient()
    sender = EventSender(client, on_cancel=lambda: None, on_failure=lambda e: None)
    log = EventLog(sender.send)
    for _ in range(5):
        log.emit("log", level="info", message="x" * 400_000)
    sender.start()
    assert sender.close(timeout=10)
    assert [len(decode(b)) for b in client.batches] == [2, 2, 1]
    assert all(len(b) <= 1_000_000 for b in client.batches)


def test_a_restarted_attempt_numbers_its_events_after_the_earlier_ones(tmp_path):
    # The sidecar's fetch answer says where the job's events stand (attempt 1's and the
    # `attempt` marker): attempt 2 goes on from there, gap-free, and nothing collides.
    with FakeSidecar(PRINTS) as sidecar:
        sidecar.payload["first_seq"] = 8
        code, log = run_runner(sidecar.url, tmp_path)
        assert code == 0, log
        seqs = sorted(sidecar.events)
        assert seqs[0] == 8
        assert seqs == list(range(8, 8 + len(seqs)))
        assert sidecar.finishes[0]["state"] == "succeeded"


def test_continue_from_is_ignored_once_events_were_numbered():
    numbered: list[int] = []
    log = EventLog(lambda seq, encoded: numbered.append(seq))
    log.continue_from(5)
    log.emit("log", level="info", message="a")
    log.continue_from(100)  # too late: the numbering is under way
    log.continue_from(True)
    log.emit("log", level="info", message="b")
    assert numbered == [5, 6]


def test_sender_sends_at_once_when_idle_and_batches_while_busy():
    client = ScriptedClient()
    sender = EventSender(client, on_cancel=lambda: None, on_failure=lambda e: None)
    log = EventLog(sender.send)
    sender.start()
    log.emit("log", level="info", message="first")
    wait_for(lambda: len(client.batches) == 1, timeout=2, what="first batch")
    client.gate.clear()  # the next POST hangs: events pile up meanwhile
    log.emit("log", level="info", message="second")
    wait_for(lambda: len(client.taken) == 2, timeout=2, what="second batch in flight")
    for i in range(10):
        log.emit("log", level="info", message=str(i))
    client.gate.set()
    assert sender.close(timeout=5)
    assert [decode(b) for b in client.batches] == [[1], [2], list(range(3, 13))]


def test_sender_reports_cancel_and_failure():
    cancels, failures = [], []
    client = ScriptedClient(answers=[{"cancel": True}, SidecarUnreachable("gone")])
    sender = EventSender(client, on_cancel=lambda: cancels.append(1), on_failure=failures.append)
    log = EventLog(sender.send)
    sender.start()
    log.emit("log", level="info", message="a")
    wait_for(lambda: cancels, timeout=2, what="cancel callback")
    log.emit("log", level="info", message="b")
    assert not sender.close(timeout=5)
    assert len(failures) == 1 and isinstance(failures[0], SidecarError)


def test_client_backoff_doubles_to_two_seconds():
    delays: list[float] = []
    client = SidecarClient("http://127.0.0.1:9", "j", "t", retry_seconds=1e9, sleep=delays.append)
    calls = {"n": 0}

    def flaky(method, path, body, **_):
        calls["n"] += 1
        if calls["n"] <= 8:
            from nbqueue.runner import sidecar_client as module

            raise module._Transient("down")
        return {"ok": True}

    client._request = flaky
    assert client.get_job() == {"ok": True}
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0])


def test_refused_events_stop_the_job_and_exit_2(tmp_path):
    nb = make_notebook("import time\ntime.sleep(60)")
    with FakeSidecar(nb, failures=["400"] * 100, grace=1) as sidecar:
        started = time.monotonic()
        code, log = run_runner(sidecar.url, tmp_path, timeout=30)
        assert code == 2, log
        assert time.monotonic() - started < 20  # the 60 s cell was stopped
        assert sidecar.attempts == 1  # a 4xx is not retried
        assert sidecar.finishes == []
        assert "invalid_event" in log


def test_wrong_job_token_exits_2_without_starting_a_kernel(tmp_path):
    with FakeSidecar(make_notebook("print(1)")) as sidecar:
        code, log = run_runner(sidecar.url, tmp_path, NBQUEUE_JOB_TOKEN="wrong")
        assert code == 2, log
        assert sidecar.bad_auth == 1 and sidecar.attempts == 0
        assert "unauthorized" in log and "Executing notebook" not in log


def test_sender_sends_again_what_the_sidecar_did_not_keep():
    client = ScriptedClient(answers=[{"last_seq": 2}, {"last_seq": 5}])
    sender = EventSender(client, on_cancel=lambda: None, on_failure=lambda e: None)
    log = EventLog(sender.send)
    for i in range(5):
        log.emit("log", level="info", message=str(i))
    sender.start()
    assert sender.close(timeout=10)
    assert [decode(b) for b in client.batches] == [[1, 2, 3, 4, 5], [3, 4, 5]]
    assert sender.resent == 3


def test_sender_stops_sending_again_when_the_sidecar_never_keeps_it():
    failures: list = []
    waits: list[float] = []
    client = ScriptedClient(answers=[{"last_seq": 0}] * 20)
    sender = EventSender(
        client, on_cancel=lambda: None, on_failure=failures.append, sleep=waits.append
    )
    EventLog(sender.send).emit("log", level="info", message="x")
    sender.start()
    assert sender.close(timeout=10)  # nothing left to send, and the job goes on
    assert [decode(b) for b in client.batches] == [[1]] * (1 + MAX_RESENDS)
    assert failures == [] and waits == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2, 2, 2])


def test_a_lost_commit_is_sent_again_and_the_stream_completes(tmp_path):
    # The third events POST is answered 200 with nothing stored: the sidecar's mark stays behind.
    with FakeSidecar(PRINTS, failures=[None, None, "drop"]) as sidecar:
        code, log = run_runner(sidecar.url, tmp_path)
        assert code == 0, log
        assert len(sidecar.dropped) == 1
        assert_complete(sidecar)
        assert set(sidecar.dropped[0]) <= set(sidecar.events)  # each dropped seq came again
        assert "sending" in log and "again" in log
        assert sidecar.finishes[0]["state"] == "succeeded"


def test_an_event_refused_as_too_large_goes_cut_and_the_job_goes_on():
    failures: list = []
    client = ScriptedClient(
        answers=[SidecarRejected(413, "request_too_large", "Too large."), {"last_seq": 1}]
    )
    sender = EventSender(client, on_cancel=lambda: None, on_failure=failures.append)
    log = EventLog(sender.send)
    log.emit("log", level="info", message="m" * 50_000)
    sender.start()
    assert sender.close(timeout=10)
    assert failures == []
    import json

    sent = json.loads(client.batches[-1])["events"]
    assert len(client.batches[-1]) <= REFUSED_EVENT_BYTES + 20
    assert sent[0]["seq"] == 1 and sent[0]["message"].endswith(" bytes]\n")


def test_an_output_over_the_sidecars_body_limit_goes_cut_and_the_job_succeeds(tmp_path):
    nb = make_notebook("print('x' * 600_000)", "print('after')")
    with FakeSidecar(nb) as sidecar:
        sidecar.payload["max_event_bytes"] = 2_000_000  # it says more than its route takes
        sidecar.max_body = 300_000
        code, log = run_runner(sidecar.url, tmp_path)
        assert code == 0, log
        finish = sidecar.finishes[0]
        assert finish["state"] == "succeeded", log
        cells = finish["notebook"]["cells"]
        assert cells[0]["outputs"][0]["text"] == "x" * 600_000 + "\n"
        assert cells[1]["outputs"][0]["text"] == "after\n"
        live = [e["output"]["text"] for e in sidecar.ordered_events() if e["type"] == "output"]
        assert live[0].startswith("xxx") and live[0].endswith(" bytes]\n")
        assert live[1] == "after\n"
