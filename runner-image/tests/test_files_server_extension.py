"""The server extension's working-files endpoints, in a real Jupyter server (pytest-jupyter's,
in this process), against a real sidecar (`nbqueue serve`, local backend, a separate Node
process) that runs the job with a real runner and kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from conftest import REPO, RUNNER_IMAGE, wait_for

SIDECAR_TOKEN = "sidecar-files-token-0123456789"
NBQUEUE_BIN = REPO / "server" / "bin" / "nbqueue.js"


def call(url: str, method: str = "GET", body=None, token: str = SIDECAR_TOKEN):
    """The sidecar's REST API."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, raw


async def jupyter(jp_fetch, route: str, body=None, **kw):
    """The Jupyter server's nbqueue/files/<route>."""
    if body is not None:
        kw.update(method="POST", body=json.dumps(body))
    answer = await jp_fetch("nbqueue", "files", route, raise_error=False, **kw)
    try:
        return answer.code, json.loads(answer.body)
    except ValueError:
        return answer.code, answer.body


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    process.communicate()


@pytest.fixture(scope="module")
def sidecar(tmp_path_factory):
    assert NBQUEUE_BIN.exists() and (REPO / "server" / "dist" / "cli" / "main.js").exists(), (
        "build the sidecar first (npm run build -w server)"
    )
    home = tmp_path_factory.mktemp("files-home")
    state = home / "sidecar.json"
    config = home / "nbqueue.json"
    config.write_text(
        json.dumps(
            {
                "auth": {"token": SIDECAR_TOKEN, "user": "alice"},
                "backend": {"local": {"python": sys.executable, "log_dir": str(home / "logs")}},
                "files": {"max_input_bytes": 20000},
                "profiles": [{"name": "cpu", "cpus": 1, "gpus": 0, "memory": "1Gi", "capacity": 1}],
            }
        )
    )
    env = dict(os.environ)
    for name in ("NBQUEUE_URL", "NBQUEUE_TOKEN"):
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(RUNNER_IMAGE), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        ["node", str(NBQUEUE_BIN), "serve", "-c", str(config), "--port", "0",
         "--db", str(home / "db" / "nbqueue.db"), "--state-file", str(state)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: state.exists(), timeout=30, what="the sidecar's state file")
        yield {"state": state, **json.loads(state.read_text())}
    finally:
        stop(process)


@pytest.fixture
def nbqueue_config(sidecar):
    return {"state_file": str(sidecar["state"])}


@pytest.fixture
def root(jp_root_dir):
    (jp_root_dir / "proj" / ".venv").mkdir(parents=True)
    (jp_root_dir / "proj" / ".venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (jp_root_dir / "proj" / "data.csv").write_text("x\n1\n2\n")
    (jp_root_dir / "proj" / "scratch.tmp").write_text("not sent")
    (jp_root_dir / "proj" / ".nbqueueignore").write_text("*.tmp\n")
    (jp_root_dir / "proj" / "train.ipynb").write_text("{}")
    return jp_root_dir


async def test_manifest_shows_what_goes_and_what_stays(jp_fetch, root):
    status, doc = await jupyter(jp_fetch, "manifest", params={"path": "proj/train.ipynb"})
    assert status == 200, doc
    assert doc["root"] == "proj"
    assert [f["path"] for f in doc["files"]] == [".nbqueueignore", "data.csv"]
    assert {f["path"]: f["reason"] for f in doc["left_out"]} == {
        ".venv/": "default ignore: virtualenv (.venv)",
        "scratch.tmp": ".nbqueueignore: *.tmp",
        # Its saved copy, outputs and all, stays: the job has the notebook already.
        "train.ipynb": "the notebook itself: it goes with the job, without its outputs",
    }
    assert doc["max_bytes"] == 20000  # the sidecar's files.max_input_bytes
    assert doc["over_cap"] is False and doc["bundle"] is True


async def test_upload_run_and_save_next_to_the_notebook(jp_fetch, root, sidecar):
    status, uploaded = await jupyter(jp_fetch, "upload", {"path": "proj/train.ipynb"})
    assert status == 200, uploaded
    assert uploaded["files"] == 2 and uploaded["left_out"] == 3
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "cells": [
            {
                "cell_type": "code",
                "id": "c1",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": "open('out.csv', 'w').write('sum\\n%d\\n' % "
                "sum(int(x) for x in open('data.csv').read().split()[1:]))",
            }
        ],
    }
    status, job = call(
        sidecar["url"] + "/api/jobs",
        "POST",
        {
            "profile": "cpu",
            "notebook": notebook,
            "notebook_path": "proj/train.ipynb",
            "input_bundle": uploaded["id"],
        },
    )
    assert status == 201, job

    def ended():
        _, now = call(sidecar["url"] + f"/api/jobs/{job['id']}")
        return now if now["state"] in ("succeeded", "failed", "cancelled") else None

    # Blocking is fine here: the Jupyter server has nothing to do until the save below.
    final = wait_for(ended, timeout=60, interval=0.2, what="the job to end")
    assert final["state"] == "succeeded", final
    status, saved = await jupyter(
        jp_fetch, "save", {"job_id": job["id"], "path": "proj/train.ipynb"}
    )
    assert status == 200, saved
    assert saved == {
        "dir": f"proj/train-{job['id']}-files",
        "files": [{"path": "out.csv", "size": 6}],
    }
    out = root / "proj" / f"train-{job['id']}-files" / "out.csv"
    assert out.read_text() == "sum\n3\n"
    assert not (root / "proj" / "out.csv").exists()  # nothing else touched


async def test_over_the_cap_is_refused_with_what_to_ignore(jp_fetch, root):
    big = root / "big"
    big.mkdir()
    (big / "nb.ipynb").write_text("{}")
    (big / "weights").mkdir()
    (big / "weights" / "w.bin").write_bytes(os.urandom(30000))
    status, doc = await jupyter(jp_fetch, "manifest", params={"path": "big/nb.ipynb"})
    assert status == 200 and doc["over_cap"] is True
    assert "weights/" in doc["problem"] and ".nbqueueignore" in doc["problem"]
    status, body = await jupyter(jp_fetch, "upload", {"path": "big/nb.ipynb"})
    assert status == 413
    assert body["error"]["code"] == "files_too_large"
    assert "weights/ (29.3 KB)" in body["error"]["message"]


async def test_paths_outside_the_root_and_missing_ones(jp_fetch, root):
    status, body = await jupyter(jp_fetch, "manifest", params={"path": "../../etc/passwd"})
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await jupyter(jp_fetch, "manifest", params={"path": ""})
    assert status == 400


async def test_endpoints_need_jupyter_login(jp_fetch, root):
    status, _ = await jupyter(
        jp_fetch,
        "manifest",
        params={"path": "proj/train.ipynb"},
        headers={"Authorization": "token x"},
    )
    assert status == 403
