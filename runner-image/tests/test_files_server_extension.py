"""The server extension's working-files endpoints, in a real `jupyter server`, against a real
sidecar (`nbqueue serve`, local backend) that runs the job with a real runner and kernel."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from conftest import REPO, RUNNER_IMAGE, wait_for

TOKEN = "jupyter-files-token"
SIDECAR_TOKEN = "sidecar-files-token-0123456789"
NBQUEUE_BIN = REPO / "server" / "bin" / "nbqueue.js"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, method: str = "GET", body=None, token: str = TOKEN, auth: str = "token"):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"{auth} {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            raw = answer.read()
            return answer.status, (json.loads(raw) if raw[:1] in (b"{", b"[") else raw)
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, raw


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    process.communicate()


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
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
    sidecar = subprocess.Popen(
        ["node", str(NBQUEUE_BIN), "serve", "-c", str(config), "--port", "0",
         "--db", str(home / "db" / "nbqueue.db"), "--state-file", str(state)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    root = home / "root"
    (root / "proj" / ".venv").mkdir(parents=True)
    (root / "proj" / ".venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (root / "proj" / "data.csv").write_text("x\n1\n2\n")
    (root / "proj" / "scratch.tmp").write_text("not sent")
    (root / "proj" / ".nbqueueignore").write_text("*.tmp\n")
    (root / "proj" / "train.ipynb").write_text("{}")
    port = free_port()
    jupyter = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter_server",
            f"--port={port}", "--ip=127.0.0.1", "--no-browser",
            f"--IdentityProvider.token={TOKEN}",
            '--ServerApp.jpserver_extensions={"nbqueue": True}',
            f"--ServerApp.root_dir={root}",
            "--allow-root",
        ],
        env={
            **env,
            "NBQUEUE_STATE_FILE": str(state),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        },
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_for(lambda: state.exists(), timeout=30, what="the sidecar's state file")

        def up():
            assert jupyter.poll() is None, jupyter.communicate()[0]
            try:
                return call(base + "api/status")[0] == 200
            except OSError:
                return False

        wait_for(up, timeout=30, interval=0.1, what="jupyter server")
        yield {"base": base, "root": root, "sidecar": json.loads(state.read_text())}
    finally:
        stop(jupyter)
        stop(sidecar)


def test_manifest_shows_what_goes_and_what_stays(servers):
    status, doc = call(servers["base"] + "nbqueue/files/manifest?path=proj/train.ipynb")
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


def test_upload_run_and_save_next_to_the_notebook(servers):
    status, uploaded = call(
        servers["base"] + "nbqueue/files/upload", "POST", {"path": "proj/train.ipynb"}
    )
    assert status == 200, uploaded
    assert uploaded["files"] == 2 and uploaded["left_out"] == 3
    sidecar = servers["sidecar"]
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
        token=SIDECAR_TOKEN,
        auth="Bearer",
    )
    assert status == 201, job

    def ended():
        _, now = call(sidecar["url"] + f"/api/jobs/{job['id']}", token=SIDECAR_TOKEN, auth="Bearer")
        return now if now["state"] in ("succeeded", "failed", "cancelled") else None

    final = wait_for(ended, timeout=60, interval=0.2, what="the job to end")
    assert final["state"] == "succeeded", final
    status, saved = call(
        servers["base"] + "nbqueue/files/save",
        "POST",
        {"job_id": job["id"], "path": "proj/train.ipynb"},
    )
    assert status == 200, saved
    assert saved == {
        "dir": f"proj/train-{job['id']}-files",
        "files": [{"path": "out.csv", "size": 6}],
    }
    out = servers["root"] / "proj" / f"train-{job['id']}-files" / "out.csv"
    assert out.read_text() == "sum\n3\n"
    assert not (servers["root"] / "proj" / "out.csv").exists()  # nothing else touched


def test_over_the_cap_is_refused_with_what_to_ignore(servers):
    big = servers["root"] / "big"
    big.mkdir()
    (big / "nb.ipynb").write_text("{}")
    (big / "weights").mkdir()
    (big / "weights" / "w.bin").write_bytes(os.urandom(30000))
    status, doc = call(servers["base"] + "nbqueue/files/manifest?path=big/nb.ipynb")
    assert status == 200 and doc["over_cap"] is True
    assert "weights/" in doc["problem"] and ".nbqueueignore" in doc["problem"]
    status, body = call(servers["base"] + "nbqueue/files/upload", "POST", {"path": "big/nb.ipynb"})
    assert status == 413
    assert body["error"]["code"] == "files_too_large"
    assert "weights/ (29.3 KB)" in body["error"]["message"]


def test_paths_outside_the_root_and_missing_ones(servers):
    status, body = call(servers["base"] + "nbqueue/files/manifest?path=../../etc/passwd")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = call(servers["base"] + "nbqueue/files/manifest?path=")
    assert status == 400


def test_endpoints_need_jupyter_login(servers):
    status, _ = call(servers["base"] + "nbqueue/files/manifest?path=proj/train.ipynb", token="x")
    assert status == 403
