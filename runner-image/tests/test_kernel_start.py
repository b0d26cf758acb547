"""A kernel that dies before it answers (a start that lost its ports to another process) is
started once more: nothing of the notebook has run yet, so the job goes on."""

from __future__ import annotations

import json

import nbformat
from nbclient.client import NotebookClient

from nbqueue.runner.cancellable_execution import NotebookExecution
from nbqueue.runner.events import EventLog


def _run(tmp_path, monkeypatch, deaths: int):
    real = NotebookClient.async_start_new_kernel_client
    ports: list[int] = []

    async def dies_at_first(self):
        ports.append(self.km.shell_port)
        if len(ports) <= deaths:
            self.km.provisioner.process.kill()  # the kernel ends before answering kernel_info
            self.km.provisioner.process.wait()
        return await real(self)

    monkeypatch.setattr(NotebookClient, "async_start_new_kernel_client", dies_at_first)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    sent: list[dict] = []
    events = EventLog(lambda seq, encoded: sent.append(json.loads(encoded)))
    outcome = NotebookExecution(nb, events, cwd=str(tmp_path)).run()
    return outcome, ports, sent


def test_a_kernel_that_dies_at_start_is_started_once_more_on_fresh_ports(tmp_path, monkeypatch):
    outcome, ports, sent = _run(tmp_path, monkeypatch, deaths=1)
    assert (outcome.state, outcome.reason) == ("succeeded", None)
    assert len(ports) == 2 and ports[0] != ports[1]
    texts = [e["output"].get("text") for e in sent if e["type"] == "output"]
    assert texts == ["42\n"]


def test_a_kernel_that_dies_twice_fails_the_job_saying_so(tmp_path, monkeypatch):
    outcome, ports, _ = _run(tmp_path, monkeypatch, deaths=2)
    assert outcome.state == "failed"
    assert outcome.reason.startswith("The kernel could not start (RuntimeError: Kernel died")
    assert len(ports) == 2
