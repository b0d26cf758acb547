"""The runner never waits on a kernel channel without a bound: a wake-up lost on the shell
socket (nbclient #312: an Output widget writes on that socket while nbclient waits on it) costs a
second, not the job (nor a cell's whole timeout). The test makes every long wait a lost wake-up:
a `get_msg` without a timeout never returns, and one longer than a poll sleeps its whole timeout,
as a poll that missed its edge does."""

from __future__ import annotations

import asyncio
import json

import nbformat
import pytest
from jupyter_client.channels import AsyncZMQSocketChannel
from nbclient import NotebookClient

from nbqueue.runner.cancellable_execution import NotebookExecution
from nbqueue.runner.events import EventLog
from nbqueue.runner.notebook_client import CHANNEL_POLL_SECONDS

pytestmark = pytest.mark.timeout(60)

CELLS = [
    ["import ipywidgets as widgets\n", "out = widgets.Output()\n", "display(out)"],
    ["with out:\n", '    print("inside an Output widget")'],
    ["print('after the widget')"],
]


@pytest.mark.parametrize("cell_timeout", [None, 30], ids=["no cell timeout", "30 s a cell"])
def test_a_lost_wake_up_on_a_channel_does_not_hang_the_job(tmp_path, monkeypatch, cell_timeout):
    path = tmp_path / "widgets.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in CELLS])
    nbformat.write(nb, path)

    real = AsyncZMQSocketChannel.get_msg
    long_waits: list[float | None] = []

    async def lost_wake_up(self, timeout=None):
        if timeout is None or timeout > CHANNEL_POLL_SECONDS:
            # The edge was missed: nothing wakes this wait before its end.
            long_waits.append(timeout)
            if timeout is None:
                await asyncio.Future()
            await asyncio.sleep(timeout)
        return await real(self, timeout=timeout)

    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", lost_wake_up)
    sent: list[dict] = []
    events = EventLog(lambda seq, encoded: sent.append(json.loads(encoded)))
    on_disk = nbformat.read(path, as_version=4)
    if cell_timeout is not None:  # as papermill's execution_timeout sets it
        monkeypatch.setattr(NotebookClient, "_get_timeout", lambda self, cell: cell_timeout)
    outcome = NotebookExecution(on_disk, events, cwd=str(tmp_path)).run()

    assert (outcome.state, outcome.reason) == ("succeeded", None)
    assert long_waits == []  # every wait was cut into polls
    texts = [e["output"].get("text") for e in sent if e["type"] == "output"]
    assert "after the widget\n" in texts
    state = json.dumps(on_disk.metadata.get("widgets", {}))
    assert "inside an Output widget" in state
