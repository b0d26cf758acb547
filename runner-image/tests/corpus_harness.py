"""Runs the notebook corpus (runner-image/tests/corpus) through papermill and through nbqueue
(the real CLI against a real sidecar with the local backend), and compares the results.

Used by runner-image/tests/test_corpus.py (parity) and runner-image/bench/corpus.py (wall time).
"""

from __future__ import annotations

import ast
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CORPUS = TESTS / "corpus"
REPO = TESTS.parents[1]
CLI = REPO / "server" / "bin" / "nbqueue.js"
TOKEN = "corpus-token-0123456789abcdef"
KERNEL = "python3"
# Papermill's own cells: the error banner at the top and the anchor before the failing cell.
PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"
# A kernel that died or stayed silent before it answered (papermill's kernels use TCP ports,
# which another process can take first): started once more, as the runner does.
KERNEL_START_FAILURES = ("died before replying to kernel_info", "didn't respond in")
INJECTED_TAG = "injected-parameters"


def manifest() -> list[dict]:
    return json.loads((CORPUS / "corpus.json").read_text())["notebooks"]


def copy_corpus(target: Path) -> Path:
    """A private copy of the corpus (notebooks write files next to themselves)."""
    shutil.copytree(CORPUS, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


@dataclass
class Run:
    """One notebook's run on one side."""

    name: str
    state: str  # succeeded | failed | cancelled | timeout
    reason: str | None
    notebook: dict | None
    seconds: float


#: Set by pytest while a test runs; ipykernel then stops capturing what subprocesses write to
#: the kernel's file descriptors. Neither side's kernel gets it: both run as a person's would.
UNDER_PYTEST = "PYTEST_CURRENT_TEST"

# -- papermill -----------------------------------------------------------------------------------


#: The longest a papermill cell may run when the corpus gives the notebook no deadline: no corpus
#: cell comes near it, and a reference that stalls ends as a timeout instead of stalling the suite.
PAPERMILL_CELL_LIMIT = 120  # seconds


def _bound_papermill_waits() -> None:
    """papermill's nbclient can wait for ever for an execute reply whose wake-up it missed
    (nbclient #312; seen in CI: 80 minutes in widgets.ipynb's Output widget cell). The reference
    gets the runner's remedy (`bound_channel_waits`: each wait is polled again every second),
    which changes no output; it only keeps the reference from hanging."""
    from nbclient import NotebookClient

    from nbqueue.runner.notebook_client import bound_channel_waits

    start = NotebookClient.async_start_new_kernel_client
    if getattr(start, "bounded", False):  # a worker runs many notebooks: patched once
        return

    async def start_bounded(self):
        kc = await start(self)
        bound_channel_waits(kc)
        return kc

    start_bounded.bounded = True
    NotebookClient.async_start_new_kernel_client = start_bounded


def _papermill_one(folder: str, entry: dict, results: str) -> tuple[str, str | None, float]:
    """In a worker process (papermill changes the process's working directory)."""
    import papermill

    os.environ.pop(UNDER_PYTEST, None)
    _bound_papermill_waits()

    path = os.path.join(folder, entry["name"])
    output = os.path.join(results, "papermill-" + entry["name"])
    start = time.monotonic()
    for attempt in (1, 2):
        try:
            papermill.execute_notebook(
                path,
                output,
                parameters=entry.get("parameters") or {},
                kernel_name=KERNEL,
                cwd=folder,
                execution_timeout=entry.get("deadline") or PAPERMILL_CELL_LIMIT,
                progress_bar=False,
            )
        except Exception as error:  # PapermillExecutionError, DeadKernelError, CellTimeoutError
            # A kernel that never answered ran nothing: started once more, as the runner
            # does (notebook_client.py), so both sides follow the same rule.
            if attempt == 1 and any(failure in str(error) for failure in KERNEL_START_FAILURES):
                continue
            return "failed", f"{type(error).__name__}: {error}"[:500], time.monotonic() - start
        return "succeeded", None, time.monotonic() - start
    raise AssertionError("unreachable")


def run_papermill(
    folder: Path, entries: list[dict], results: Path, workers: int = 2
) -> dict[str, Run]:
    runs: dict[str, Run] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = {
            e["name"]: pool.submit(_papermill_one, str(folder), e, str(results)) for e in entries
        }
        for name, future in futures.items():
            state, reason, seconds = future.result()
            out = results / ("papermill-" + name)
            nb = json.loads(out.read_text()) if out.exists() else None
            runs[name] = Run(name, state, reason, nb, seconds)
    return runs


# -- nbqueue ---------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sidecar:
    """`nbqueue serve` with the local backend, its own HOME, store and port."""

    def __init__(self, home: Path, capacity: int = 4):
        self.home = home
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "server": {"host": "127.0.0.1", "port": self.port},
            "auth": {"token": TOKEN, "user": "corpus"},
            "profiles": [
                {"name": "cpu", "cpus": 1, "gpus": 0, "memory": "2Gi", "capacity": capacity}
            ],
            "backend": {
                "type": "local",
                "local": {
                    "python": sys.executable,
                    "cancel_grace_seconds": 3,
                    "log_dir": str(home / "logs"),
                },
            },
        }
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.json").write_text(json.dumps(config))
        self.process: subprocess.Popen | None = None

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            HOME=str(self.home),
            NBQUEUE_URL=self.url,
            NBQUEUE_TOKEN=TOKEN,
            # The runner the local backend starts is the one in this tree, not an installed one.
            PYTHONPATH=os.pathsep.join(
                filter(None, [str(REPO / "runner-image"), os.environ.get("PYTHONPATH")])
            ),
            NBQUEUE_RETRY_SECONDS="60",
        )
        env.pop("NBQUEUE_CONFIG", None)
        env.pop(UNDER_PYTEST, None)
        return env

    def __enter__(self) -> Sidecar:
        self.log = open(self.home / "serve.log", "w")  # noqa: SIM115 (closed in __exit__)
        self.process = subprocess.Popen(
            ["node", str(CLI), "serve", "-c", str(self.home / "config.json")],
            cwd=self.home,
            env=self.env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.api("GET", "/api/info")
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    log = (self.home / "serve.log").read_text()
                    raise RuntimeError(f"nbqueue serve did not start:\n{log}") from None
                time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def api(self, method: str, route: str):
        request = urllib.request.Request(
            self.url + route, method=method, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def cli(self, *args: str, timeout: float, cwd: Path, stdout=subprocess.PIPE):
        return subprocess.run(
            ["node", str(CLI), *args],
            cwd=cwd,
            env=self.env(),
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout,
        )


QUEUED = re.compile(r"^\[nbqueue\] (j-[0-9a-z]+) queued", re.M)


def submit_args(entry: dict) -> list[str]:
    args = ["submit", entry["name"], "--profile", "cpu", "--follow"]
    for name, value in (entry.get("parameters") or {}).items():
        args += ["-p", f"{name}={json.dumps(value, ensure_ascii=False)}"]
    if entry.get("deadline"):
        args += ["--deadline", str(entry["deadline"])]
    return args


def _nbqueue_one(sidecar: Sidecar, folder: Path, entry: dict, results: Path, limit: float) -> Run:
    """`nbqueue submit --follow`, then `nbqueue result`: the CLI as a person runs it."""
    name = entry["name"]
    start = time.monotonic()
    with open(results / f"nbqueue-{name}.stdout", "w") as out:
        process = subprocess.Popen(
            ["node", str(CLI), *submit_args(entry)],
            cwd=folder,
            env=sidecar.env(),
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _, err = process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
            err += f"\n(the CLI was still following after {limit:g} s)"
    seconds = time.monotonic() - start
    queued = QUEUED.search(err or "")
    if not queued:
        return Run(name, "failed", f"nbqueue submit: {err.strip()[-500:]}", None, seconds)
    job_id = queued.group(1)
    job = sidecar.api("GET", f"/api/jobs/{job_id}")
    if job["state"] not in ("succeeded", "failed", "cancelled"):
        sidecar.cli("cancel", job_id, timeout=30, cwd=folder)
        return Run(name, "timeout", f"still {job['state']} after {limit:g} s", None, seconds)
    result = results / f"nbqueue-{name}"
    fetched = sidecar.cli("result", job_id, "-o", str(result), timeout=60, cwd=folder)
    nb = json.loads(result.read_text()) if fetched.returncode == 0 else None
    return Run(name, job["state"], job.get("reason"), nb, seconds)


def run_nbqueue(
    sidecar: Sidecar, folder: Path, entries: list[dict], results: Path, workers: int = 4
) -> dict[str, Run]:
    def one(entry: dict) -> Run:
        limit = (entry.get("deadline") or 0) + 120
        return _nbqueue_one(sidecar, folder, entry, results, limit)

    with ThreadPoolExecutor(workers) as pool:
        return {run.name: run for run in pool.map(one, entries)}


# -- comparison ------------------------------------------------------------------------------

BIG = 1_000_000  # characters: compared as they are, without the regular expressions below
TEXT_RULES = [
    (re.compile(r"0x[0-9a-fA-F]{6,}"), "0xADDRESS"),
    (re.compile(r"ipykernel_\d+/\d+\.py"), "ipykernel_PID/CELL.py"),
    (re.compile(r"/tmp/[^\s'\"]*"), "/tmp/PATH"),
    # %time: "CPU times: user 2.1 ms, sys: 0 ns, total: 2.1 ms" / "Wall time: 2.2 ms"
    (re.compile(r"\b\d+(\.\d+)?\s*(ns|µs|μs|us|ms|s|min)\b"), "TIME"),
]
MODEL_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def normal_text(text: str, folders: tuple[str, ...] = ()) -> str:
    if len(text) > BIG:
        return text
    for folder in folders:
        text = text.replace(folder, "<cwd>")
    for pattern, replacement in TEXT_RULES:
        text = pattern.sub(replacement, text)
    return MODEL_ID.sub("MODEL", text)


def _output(out: dict, folders: tuple[str, ...]) -> dict:
    kind = out["output_type"]
    if kind == "stream":
        return {"stream": out["name"], "text": normal_text(_text(out["text"]), folders)}
    if kind == "error":
        return {
            "error": out["ename"],
            "evalue": normal_text(out["evalue"], folders),
            "traceback": [normal_text(line, folders) for line in out["traceback"]],
        }
    data = {}
    for mime, value in out.get("data", {}).items():
        data[mime] = (
            normal_text(_text(value), folders)
            if isinstance(value, (str, list))
            else json.loads(normal_text(json.dumps(value), folders))
        )
    return {kind: data, "metadata": out.get("metadata", {})}


def _merged_streams(outputs: list) -> list:
    """Consecutive stream outputs of one name as one (how many messages a stream took is the
    kernel's timing, not the notebook's content)."""
    merged: list = []
    for out in outputs:
        previous = merged[-1] if merged else None
        if (
            out["output_type"] == "stream"
            and previous is not None
            and previous["output_type"] == "stream"
            and previous["name"] == out["name"]
        ):
            merged[-1] = {**previous, "text": _text(previous["text"]) + _text(out["text"])}
        else:
            merged.append(out)
    return merged


def injected_values(source: str) -> dict:
    """The names and values an injected-parameters cell binds (its spelling aside)."""
    values = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def _widget_state(nb: dict) -> list:
    state = nb.get("metadata", {}).get("widgets", {})
    models = state.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    return sorted(normal_text(json.dumps(m, sort_keys=True)) for m in models.values())


def normal_notebook(nb: dict, folders: tuple[str, ...] = ()) -> dict:
    """What must be equal between papermill's and nbqueue's result of one notebook."""
    cells = []
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if PAPERMILL_ERROR_TAG in tags:
            continue
        source = _text(cell["source"])
        item = {"type": cell["cell_type"], "tags": sorted(tags)}
        item["source"] = injected_values(source) if INJECTED_TAG in tags else source
        if cell["cell_type"] == "code":
            item["executed"] = cell.get("execution_count") is not None
            item["outputs"] = [_output(o, folders) for o in _merged_streams(cell["outputs"])]
        cells.append(item)
    widgets = _widget_state(nb)
    return {"cells": cells, **({"widgets": widgets} if widgets else {})}


def first_difference(a, b, path: str = "") -> str | None:
    """Where two normalised notebooks first differ, in a line."""
    if type(a) is not type(b):
        return f"{path or '/'}: {_short(a)} != {_short(b)}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{path}/{key}: only in {'nbqueue' if key in b else 'papermill'}"
            found = first_difference(a[key], b[key], f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}/{i}")
            if found:
                return found
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)} items"
        return None
    return None if a == b else f"{path}: {_short(a)} != {_short(b)}"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


@dataclass
class Comparison:
    name: str
    papermill: Run
    nbqueue: Run
    difference: str | None  # None: the results are equal after normalising


def compare(papermill: Run, nbqueue: Run, folders: tuple[str, ...]) -> Comparison:
    if papermill.notebook is None or nbqueue.notebook is None:
        missing = "papermill" if papermill.notebook is None else "nbqueue"
        return Comparison(papermill.name, papermill, nbqueue, f"no result notebook from {missing}")
    a = normal_notebook(papermill.notebook, folders)
    b = normal_notebook(nbqueue.notebook, folders)
    return Comparison(papermill.name, papermill, nbqueue, first_difference(a, b))


@dataclass
class CorpusRun:
    papermill: dict[str, Run]
    nbqueue: dict[str, Run]
    comparisons: dict[str, Comparison]
    folders: dict[str, Path]  # side -> the corpus copy it ran in
    seconds: float  # wall time of both sides together


def run_corpus(workdir: Path, entries: list[dict] | None = None) -> CorpusRun:
    """Both sides at once: papermill in 2 processes, nbqueue jobs 4 at a time."""
    entries = entries if entries is not None else manifest()
    folders = {
        "papermill": copy_corpus(workdir / "papermill"),
        "nbqueue": copy_corpus(workdir / "nbqueue"),
    }
    results = workdir / "results"  # outside the copies: a job's output files are what it wrote
    results.mkdir()
    start = time.monotonic()
    with Sidecar(workdir / "home") as sidecar, ThreadPoolExecutor(1) as side:
        papermill_future = side.submit(run_papermill, folders["papermill"], entries, results)
        nbqueue = run_nbqueue(sidecar, folders["nbqueue"], entries, results)
        papermill = papermill_future.result()
    seconds = time.monotonic() - start
    paths = tuple(str(f) for f in folders.values())
    comparisons = {
        e["name"]: compare(papermill[e["name"]], nbqueue[e["name"]], paths) for e in entries
    }
    return CorpusRun(papermill, nbqueue, comparisons, folders, seconds)


def table(run: CorpusRun, entries: list[dict], notes: dict[str, str]) -> str:
    """The corpus table of docs/protocol.md as this run found it (`notes`: the documented
    reason of each notebook whose results differ)."""
    lines = [
        "| notebook | covers | papermill | nbqueue | outputs |",
        "| --- | --- | --- | --- | --- |",
    ]
    for entry in entries:
        name = entry["name"]
        comparison = run.comparisons[name]
        outputs = (
            "equal"
            if comparison.difference is None
            else notes.get(name, f"DIFFERS: {comparison.difference}")
        )
        lines.append(
            f"| `{name}` | {entry['covers']} | {comparison.papermill.state} "
            f"| {comparison.nbqueue.state} | {outputs} |"
        )
    return "\n".join(lines) + "\n"
