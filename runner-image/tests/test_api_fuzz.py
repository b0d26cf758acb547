"""The REST contract, fuzzed: schemathesis against GET /api/openapi.json of a real sidecar.

Three callers (alice and bob, users; root, an admin) each get a bounded run of every phase:
examples, coverage (which also sends each path the methods it does not list: 405), fuzzing,
and the stateful phase, which follows the document's links to submit a job and then act on it.
Every check must pass: no 5xx, every answer as documented (status, content type, schema), no
schema-valid request refused, 405 with Allow for undeclared methods.

Jobs are cheap: the local backend's "Python" is a script that sleeps, so an admitted job holds
its profile's one slot for a few seconds and the jobs behind it stay queued (to be held, moved,
reprioritised, reordered, cancelled); a job naming its own kernel Python (made up) fails at once.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parents[1]
CLI = REPO / "server" / "bin" / "nbqueue.js"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")

CALLERS = {
    "alice": "alice-token-0123456789abcdef",
    "bob": "bob-token-0123456789abcdefgh",
    "root": "root-token-0123456789abcdefg",
}
# Per caller: examples per operation and phase, and a time budget for the whole run.
MAX_EXAMPLES = int(os.environ.get("NBQUEUE_FUZZ_EXAMPLES", "8"))
MAX_SECONDS = int(os.environ.get("NBQUEUE_FUZZ_SECONDS", "30"))

pytestmark = pytest.mark.skipif(
    not SCHEMATHESIS.exists(), reason="schemathesis is not installed (requirements-dev.lock)"
)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sidecar(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz")
    port = _free_port()
    config = {
        "server": {"host": "127.0.0.1", "port": port},
        "auth": {
            "token": CALLERS["root"],
            "user": "root",
            "admin": True,
            "users": [
                {"token": CALLERS["alice"], "user": "alice"},
                {"token": CALLERS["bob"], "user": "bob"},
            ],
        },
        "profiles": [
            {"name": "cpu", "cpus": 1, "gpus": 0, "memory": "1Gi", "capacity": 1},
            {"name": "gpu-1", "cpus": 4, "gpus": 1, "memory": "8Gi", "capacity": 1},
        ],
        "queues": [
            {"name": "cpu", "profile": "cpu"},
            {"name": "cpu-batch", "profile": "cpu"},
            {"name": "gpu-1", "profile": "gpu-1"},
        ],
        "backend": {
            "type": "local",
            "local": {
                "python": str(home / "python"),
                "cancel_grace_seconds": 1,
                # Test users, one OS account: the fuzz is about the REST contract.
                "single_os_user": True,
                "log_dir": str(home / "logs"),
            },
        },
    }
    sleeper = home / "python"
    sleeper.write_text("#!/bin/sh\nexec sleep 5\n")
    sleeper.chmod(0o755)
    (home / "config.json").write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBQUEUE_")}
    env.update(HOME=str(home), NBQUEUE_STATE_FILE=str(home / "server.json"))
    log = open(home / "serve.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        ["node", str(CLI), "serve", "-c", str(home / "config.json")],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/api/health", timeout=5).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.close()
                raise RuntimeError(
                    "nbqueue serve did not start:\n" + (home / "serve.log").read_text()
                ) from None
            time.sleep(0.2)
    try:
        yield {"url": url, "home": home}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        server_log = (home / "serve.log").read_text()
        # An unexpected error is logged before its 500 goes out; none may have happened.
        assert "unexpected error" not in server_log, server_log[-4000:]


def fuzz(url: str, token: str, report: Path) -> subprocess.CompletedProcess:
    """One bounded run; its working files (.schemathesis/) stay next to the report."""
    env = dict(os.environ, SCHEMATHESIS_HOOKS="api_fuzz.hooks", PYTHONPATH=str(TESTS))
    return subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{url}/api/openapi.json",
            "--url",
            url,
            "-H",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--mode",
            "positive",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--max-time",
            str(MAX_SECONDS),
            "--request-timeout",
            "20",
            "--generation-deterministic",
            "--no-color",
            "--output-truncate",
            "true",
            # A job's runner and bundle routes take other credentials and archives: see
            # server/test/files.test.ts and server/test/api.test.ts.
            "--exclude-path-regex",
            "^/api/(runner/|files/bundles$)",
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
        ],
        env=env,
        cwd=report.parent,
        capture_output=True,
        text=True,
        timeout=MAX_SECONDS * 3 + 60,
    )


@pytest.mark.timeout(MAX_SECONDS * 4 + 120)
@pytest.mark.parametrize("caller", list(CALLERS))
def test_the_api_keeps_its_document(sidecar, caller, tmp_path):
    run = fuzz(sidecar["url"], CALLERS[caller], tmp_path / "junit.xml")
    cases = re.search(r"Test cases:\s+(.*)", run.stdout)
    print(f"schemathesis as {caller}: {cases.group(1) if cases else '?'}")
    failures = run.stdout.split("WARNINGS ===")[0].split("FAILURES ===")[-1]
    assert run.returncode == 0, failures[-20000:] + run.stderr[-2000:]
    # The stateful phase needs jobs: the fuzzer's own submits were taken.
    request = urllib.request.Request(
        f"{sidecar['url']}/api/jobs?limit=1000",
        headers={"Authorization": f"Bearer {CALLERS[caller]}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        jobs = json.loads(answer.read())["jobs"]
    assert jobs, f"no submit by {caller} was accepted"
