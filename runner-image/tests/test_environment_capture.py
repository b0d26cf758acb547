"""The labextension's capture (labextension/src/submit/captureSource.ts), run as it is sent: one
silent execute with a `user_expressions` entry on a real ipykernel, in a git repository, with an
editable and a VCS-installed distribution on its path. What comes back must be the job spec's
`environment` (read here by the runner's own parser) and leave nothing behind in the kernel."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys

import pytest
from jupyter_client.manager import KernelManager

from nbqueue.environment import parse_environment
from nbqueue.runner.kernel import KERNEL_NAME, OwnInterpreterKernelSpecManager

from conftest import REPO, RUNNER_IMAGE

SOURCE_FILE = REPO / "labextension" / "src" / "submit" / "captureSource.ts"

pytestmark = pytest.mark.timeout(120)


def capture_expression() -> str:
    """CAPTURE_EXPRESSION as the TypeScript module builds it."""
    text = SOURCE_FILE.read_text()
    source = re.search(r"CAPTURE_SOURCE = String\.raw`(.*?)`;", text, re.S).group(1)
    template = re.search(r"CAPTURE_EXPRESSION = `(.*?)`;", text, re.S).group(1)
    return re.sub(
        r"\$\{JSON\.stringify\(\s*CAPTURE_SOURCE\s*\)\}", lambda _: json.dumps(source), template
    )


def git(cwd, *args) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def fake_distribution(site, name, version, direct_url: dict) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "direct_url.json").write_text(json.dumps(direct_url))


@pytest.fixture
def project(tmp_path):
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ada@example.com")
    git(repo, "config", "user.name", "Ada")
    (repo / "train.py").write_text("print('v1')\n")
    git(repo, "add", "train.py")
    git(repo, "commit", "-q", "-m", "first")
    git(repo, "remote", "add", "origin", "https://ada:ghp_secret@example.com/team/project.git")
    (repo / "train.py").write_text("print('v2')\n")  # uncommitted change
    site = tmp_path / "site"
    fake_distribution(
        site, "mylib", "0.1", {"url": "file:///home/ada/mylib", "dir_info": {"editable": True}}
    )
    fake_distribution(
        site,
        "vcslib",
        "1.0",
        {"url": "https://github.com/o/vcslib", "vcs_info": {"vcs": "git", "commit_id": "abc123"}},
    )
    return repo, site


@pytest.fixture
def kernel(project):
    repo, site = project
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBQUEUE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(RUNNER_IMAGE), str(site)])
    km = KernelManager(
        kernel_name=KERNEL_NAME, kernel_spec_manager=OwnInterpreterKernelSpecManager()
    )
    km.start_kernel(env=env, cwd=str(repo))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def reply_to(kc, msg_id: str) -> dict:
    while True:
        msg = kc.get_shell_msg(timeout=60)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]


def user_names(kc) -> tuple[list[str], int]:
    """The user's global names (as a cell sees them) and the execution count of that cell."""
    code = "print(sorted(k for k in globals() if not k.startswith('_')))"
    msg_id = kc.execute(code)
    content = reply_to(kc, msg_id)
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            return ast.literal_eval(msg["content"]["text"].strip()), content["execution_count"]


def test_capture_from_a_live_kernel_gives_the_spec_environment(kernel, project):
    repo, _ = project
    names_before, count_before = user_names(kernel)

    msg_id = kernel.execute(
        "",
        silent=True,
        store_history=False,
        user_expressions={"nbqueue_env": capture_expression()},
    )
    content = reply_to(kernel, msg_id)

    assert content["status"] == "ok"
    result = content["user_expressions"]["nbqueue_env"]
    assert result["status"] == "ok", result
    captured = json.loads(ast.literal_eval(result["data"]["text/plain"]))

    env = parse_environment(captured)
    assert env.python_version == platform.python_version()
    assert captured["python"]["executable"] == sys.executable
    assert captured["cwd"] == str(repo)
    assert captured["conda_env"] is None
    by_name = {p.key: p for p in env.packages}
    assert by_name["ipykernel"].version == importlib.metadata.version("ipykernel")
    assert by_name["mylib"].editable and by_name["mylib"].local_path == "/home/ada/mylib"
    assert by_name["vcslib"].vcs == "git" and by_name["vcslib"].commit == "abc123"
    assert len(env.packages) > 50

    head = git(repo, "rev-parse", "HEAD")
    assert captured["git"] == {
        "root": str(repo),
        "remote": "https://example.com/team/project.git",  # the token never leaves the kernel
        "commit": head,
        "branch": "main",
        "dirty": True,
    }

    # Nothing in the user's namespace, history or execution count.
    names_after, count_after = user_names(kernel)
    assert names_after == names_before
    assert count_after == count_before + 1


def test_capture_outside_a_repository_reports_no_git(kernel, project, tmp_path):
    elsewhere = tmp_path / "plain"
    elsewhere.mkdir()
    msg_id = kernel.execute(f"import os; os.chdir({str(elsewhere)!r})")
    reply_to(kernel, msg_id)
    msg_id = kernel.execute(
        "", silent=True, store_history=False, user_expressions={"e": capture_expression()}
    )
    captured = json.loads(
        ast.literal_eval(reply_to(kernel, msg_id)["user_expressions"]["e"]["data"]["text/plain"])
    )
    assert captured["cwd"] == str(elsewhere) and captured["git"] is None
