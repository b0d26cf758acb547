"""nbqueue.log_metric in an ordinary interactive kernel (real ipykernel, no runner)."""

from __future__ import annotations

import math
import warnings

import pytest
from kernels import Kernel, displays, stream_text

from nbqueue.metrics import METRICS_MIME, POINTS_MIME, MetricLogger, MetricWarning


@pytest.fixture(scope="module")
def kernel():
    k = Kernel()
    yield k
    k.close()


def series_of(message: dict) -> dict:
    data = message["content"]["data"][METRICS_MIME]
    assert data["version"] == 1
    return {s["name"]: s for s in data["series"]}


def test_chart_shown_with_display_id_and_updated(kernel):
    messages = kernel.run(
        "import nbqueue, time\n"
        "print('before')\n"
        "for i in range(6):\n"
        "    nbqueue.log_metric('loss', 1 / (i + 1))\n"
        "    time.sleep(0.06)\n"
    )
    charts = displays(messages, METRICS_MIME)
    assert charts[0]["msg_type"] == "display_data"
    display_id = charts[0]["content"]["transient"]["display_id"]
    assert display_id
    updates = charts[1:]
    assert updates and all(m["msg_type"] == "update_display_data" for m in updates)
    assert {m["content"]["transient"]["display_id"] for m in updates} == {display_id}
    # the chart grew while the cell ran, and the last update (at cell end) has every point
    assert len(updates) >= 2
    final = series_of(updates[-1])["loss"]
    assert final["steps"] == [0, 1, 2, 3, 4, 5]
    assert final["values"] == pytest.approx([1 / (i + 1) for i in range(6)])
    times = final["times"]
    assert times == sorted(times) and all(t > 1.7e12 for t in times)  # epoch ms
    assert "loss = 0.166667 at step 5" in updates[-1]["content"]["data"]["text/plain"]
    # the chart comes after what the cell printed before its first point
    kinds = [m["msg_type"] for m in messages]
    assert kinds.index("stream") < kinds.index("display_data")
    # outside a job, no points travel to a runner
    assert not displays(messages, POINTS_MIME)


def test_each_cell_gets_its_own_chart_and_steps_continue(kernel):
    first = kernel.run("nbqueue.log_metrics({'acc': 0.5, 'lr': 0.1})")
    second = kernel.run(
        "nbqueue.log_metrics({'acc': 0.6, 'lr': 0.1})\n"
        "nbqueue.log_metric('acc', 0.9, step=10)\n"
        "nbqueue.log_metric('acc', 1.0)"
    )
    id1 = displays(first, METRICS_MIME)[0]["content"]["transient"]["display_id"]
    id2 = displays(second, METRICS_MIME)[0]["content"]["transient"]["display_id"]
    assert id1 != id2
    last = series_of(displays(second, METRICS_MIME)[-1])
    assert last["acc"]["steps"] == [1, 10, 11]
    assert last["lr"]["steps"] == [1]


def test_bad_values_warn_once_and_never_raise(kernel):
    messages = kernel.run(
        "for _ in range(3):\n"
        "    nbqueue.log_metric('bad', float('nan'))\n"
        "    nbqueue.log_metric('bad', float('inf'))\n"
        "    nbqueue.log_metric('bad', 'high')\n"
        "    nbqueue.log_metric('bad', None)\n"
        "    nbqueue.log_metric('', 1.0)\n"
        "    nbqueue.log_metric('x' * 201, 1.0)\n"
        "    nbqueue.log_metric(3, 1.0)\n"
        "    nbqueue.log_metric('bad', 2.0, step='one')\n"
        "    nbqueue.log_metrics(['not', 'a', 'dict'])\n"
        "print('still running')"
    )
    assert "still running" in stream_text(messages, "stdout")
    assert not [m for m in messages if m["msg_type"] == "error"]
    stderr = stream_text(messages, "stderr")
    assert stderr.count("MetricWarning") == 6, stderr
    assert stderr.count("must be a number") == 1
    assert stderr.count("names must be text") == 3  # '', 'xxx...', 3
    assert stderr.count("must be a whole number") == 1
    assert stderr.count("expects a dict") == 1
    bad = series_of(displays(messages, METRICS_MIME)[-1])["bad"]
    assert bad["values"] == [None, None] * 3  # NaN and inf kept, as gaps
    assert bad["steps"] == [0, 1, 2, 3, 4, 5]


def test_max_metrics_from_the_environment():
    k = Kernel(NBQUEUE_MAX_METRICS="5")
    try:
        messages = k.run(
            "import nbqueue\nfor i in range(8):\n    nbqueue.log_metric(f'm{i}', i)\n"
            "nbqueue.log_metric('m0', 1)"
        )
    finally:
        k.close()
    stderr = stream_text(messages, "stderr")
    assert stderr.count("at most 5 distinct metrics") == 1, stderr
    series = series_of(displays(messages, METRICS_MIME)[-1])
    assert sorted(series) == ["m0", "m1", "m2", "m3", "m4"]
    assert series["m0"]["values"] == [0, 1]


def test_100k_calls_add_at_most_a_few_seconds(kernel):
    messages = kernel.run(
        "import time\n"
        "t = time.perf_counter()\n"
        "for i in range(100_000):\n"
        "    nbqueue.log_metric('fast', i * 0.5)\n"
        "loop = time.perf_counter() - t\n"
        "t = time.perf_counter()\n"
        "for i in range(100_000):\n"
        "    pass\n"
        "print(loop - (time.perf_counter() - t))"
    )
    overhead = float(stream_text(messages, "stdout"))
    print(f"100,000 log_metric calls: {overhead:.3f} s")
    assert overhead < 5.0
    final = series_of(displays(messages, METRICS_MIME)[-1])["fast"]
    assert len(final["steps"]) == 100_000


# -- the logger alone (no kernel) -----------------------------------------------------------


class FakePublisher:
    def __init__(self):
        self.sent = []

    def parent(self):
        return {"msg_id": "cell"}

    def display(self, data, display_id, parent, update):
        self.sent.append((update, display_id, parent, data))


def test_points_flushed_at_1000_and_at_cell_end():
    publisher = FakePublisher()
    logger = MetricLogger(publisher, in_job=True, timer=False)
    for i in range(1500):
        logger.log("loss", float(i))
    batches = [d[POINTS_MIME]["points"] for _, _, _, d in publisher.sent if POINTS_MIME in d]
    assert [len(b) for b in batches] == [1000]
    logger.cell_finished()
    batches = [d[POINTS_MIME]["points"] for _, _, _, d in publisher.sent if POINTS_MIME in d]
    assert [len(b) for b in batches] == [1000, 500]
    assert batches[0][0][:3] == ["loss", 0, 0.0]
    assert all(parent == {"msg_id": "cell"} for _, _, parent, _ in publisher.sent)
    charts = [(u, d) for u, _, _, d in publisher.sent if METRICS_MIME in d]
    assert charts[0][0] is False and charts[-1][0] is True
    assert len(charts[-1][1][METRICS_MIME]["series"][0]["steps"]) == 1500


def test_without_ipython_points_are_kept_and_nothing_raises():
    logger = MetricLogger(None, timer=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        logger.log("a", math.inf)
        logger.log("a", object())
        logger.log("a", object())
    assert [w.category for w in caught] == [MetricWarning]
    logger.cell_finished()
