"""How the runner starts the job's kernel: over IPC on Linux (Unix sockets in a private folder,
no TCP port to lose to another process), and once more when the first start fails before the
kernel answered (it died, or stayed silent for the start timeout): nothing of the notebook has
run yet, so the job goes on."""

from __future__ import annotations

import json
import os
import signal
import sys

import nbformat
from nbclient.client import NotebookClient

from nbqueue.runner import cancellable_execution
from nbqueue.runner.cancellable_execution import NotebookExecution
from nbqueue.runner.events import EventLog
from nbqueue.runner.kernel import OwnInterpreterKernelSpecManager


def _execute(tmp_path, *sources: str, **options):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    sent: list[dict] = []
    events = EventLog(lambda seq, encoded: sent.append(json.loads(encoded)))
    outcome = NotebookExecution(nb, events, cwd=str(tmp_path), **options).run()
    texts = [e["output"].get("text") for e in sent if e["type"] == "output"]
    return outcome, texts


def _record_starts(monkeypatch, deaths: int = 0):
    """Each kernel start's (manager, process); the first `deaths` kernels are killed before
    they can answer kernel_info."""
    real = NotebookClient.async_start_new_kernel_client
    starts: list[tuple] = []

    async def recorded(self):
        process = self.km.provisioner.process
        starts.append((self.km, process))
        if len(starts) <= deaths:
            process.kill()  # the kernel ends before answering kernel_info
            process.wait()
        return await real(self)

    monkeypatch.setattr(NotebookClient, "async_start_new_kernel_client", recorded)
    return starts


# What the kernel itself sees: its transport, its private folder's mode, whether its sockets
# are Unix sockets there, and how many TCP ports it listens on (its own fds' inodes matched
# against the LISTEN entries, state 0A, of /proc/self/net/tcp and tcp6), less the one of
# ipykernel's IOPub pipe for forked subprocesses, which the kernel binds itself (a random port,
# tried again when taken: no race).
KERNEL_SOCKETS = """
import json, os, stat
from ipykernel.connect import get_connection_file
info = json.load(open(get_connection_file()))
inodes = set()
for fd in os.listdir("/proc/self/fd"):
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        continue
    if target.startswith("socket:["):
        inodes.add(target[8:-1])
listening = {
    int(line.split()[1].rsplit(":", 1)[1], 16)
    for name in ("tcp", "tcp6") for line in open(f"/proc/self/net/{name}").readlines()[1:]
    if line.split()[3] == "0A" and line.split()[9] in inodes
} - {get_ipython().kernel.iopub_thread._pipe_port}
ports = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
unix = all(
    stat.S_ISSOCK(os.stat(f"{info['ip']}-{info[p]}").st_mode) for p in ports
) if info["transport"] == "ipc" else False
folder = oct(os.stat(os.path.dirname(get_connection_file())).st_mode & 0o777)
print(info["transport"], len(listening), unix, folder)
"""


def test_the_kernel_talks_over_ipc_in_a_private_folder_and_listens_on_no_tcp_port(
    tmp_path, monkeypatch
):
    folders: list[str] = []
    real = cancellable_execution.ipc_runtime_dir

    def recorded():
        folders.append(real())
        return folders[-1]

    monkeypatch.setattr(cancellable_execution, "ipc_runtime_dir", recorded)
    starts = _record_starts(monkeypatch)
    outcome, texts = _execute(tmp_path, KERNEL_SOCKETS)
    assert (outcome.state, outcome.reason) == ("succeeded", None)
    assert texts == ["ipc 0 True 0o700\n"]
    ((km, _process),), (folder,) = starts, folders
    assert km.transport == "ipc" and km.connection_file.startswith(folder + os.sep)
    assert not os.path.exists(folder)  # the connection file and sockets went with the kernel
    assert not any(name.startswith("kernel-ipc") for name in os.listdir(tmp_path))


def test_without_ipc_the_kernel_falls_back_to_tcp(tmp_path, monkeypatch):
    # The same check can fail: a TCP kernel listens on its five ports.
    monkeypatch.setattr(cancellable_execution, "ipc_runtime_dir", lambda: None)
    outcome, texts = _execute(tmp_path, KERNEL_SOCKETS)
    assert outcome.state == "succeeded", outcome.reason
    assert texts[0].split()[:3] == ["tcp", "5", "False"]


def test_a_kernel_that_dies_at_start_is_started_once_more_with_new_sockets(tmp_path, monkeypatch):
    starts = _record_starts(monkeypatch, deaths=1)
    outcome, texts = _execute(tmp_path, "print(6 * 7)")
    assert (outcome.state, outcome.reason) == ("succeeded", None)
    assert texts == ["42\n"]
    assert len(starts) == 2 and starts[0][0].connection_file != starts[1][0].connection_file


def test_a_kernel_that_dies_twice_fails_the_job_saying_so(tmp_path, monkeypatch):
    starts = _record_starts(monkeypatch, deaths=2)
    outcome, _ = _execute(tmp_path, "print(6 * 7)")
    assert outcome.state == "failed"
    assert outcome.reason.startswith("The kernel could not start (RuntimeError: Kernel died")
    assert outcome.reason.endswith("; it was started 2 times.")
    assert len(starts) == 2


class SilentKernelSpecs(OwnInterpreterKernelSpecManager):
    """A kernel that starts and never answers, deaf to interrupts too (as one whose port was
    taken could hang)."""

    def own_spec(self):
        spec = super().own_spec()
        hang = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(600)"
        spec.argv = [sys.executable, "-c", hang, "{connection_file}"]
        return spec


def _silent_first(monkeypatch, silent: int) -> None:
    real = cancellable_execution.own_interpreter_kernel_manager
    made: list = []

    def factory(*args, **kwargs):
        km = real(*args, **kwargs)
        if len(made) < silent:
            km.kernel_spec_manager = SilentKernelSpecs()
        made.append(km)
        return km

    monkeypatch.setattr(cancellable_execution, "own_interpreter_kernel_manager", factory)


def test_a_kernel_silent_past_its_start_timeout_is_killed_and_started_once_more(
    tmp_path, monkeypatch
):
    _silent_first(monkeypatch, silent=1)
    starts = _record_starts(monkeypatch)
    # 20 s: room for the real second kernel to start on a loaded machine.
    outcome, texts = _execute(tmp_path, "print(6 * 7)", start_timeout=20)
    assert (outcome.state, outcome.reason) == ("succeeded", None)
    assert texts == ["42\n"]
    assert len(starts) == 2
    assert starts[0][1].poll() == -signal.SIGKILL  # killed, not left behind


def test_a_kernel_silent_twice_fails_the_job_saying_so(tmp_path, monkeypatch):
    _silent_first(monkeypatch, silent=2)
    starts = _record_starts(monkeypatch)
    outcome, _ = _execute(tmp_path, "print(6 * 7)", start_timeout=3)
    assert outcome.state == "failed"
    assert outcome.reason == (
        "The kernel could not start (RuntimeError: Kernel didn't respond in 3 seconds); "
        "it was started 2 times."
    )
    assert [process.poll() for _, process in starts] == [-signal.SIGKILL] * 2
