"""The runner image, built (images/build.sh --base local: the Dockerfile FROM a Debian bookworm
made from Debian's packages, cached by a hash of what it is built from) and run with the
settings a Kubernetes job pod gives it: uid 1000, no capabilities, no privilege escalation."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from conftest import JOB_ID, JOB_TOKEN, REPO, RUNNER_IMAGE, FakeSidecar, make_notebook

pytestmark = pytest.mark.timeout(600)

DOCKERFILE = RUNNER_IMAGE / "Dockerfile"
REQUIREMENTS = RUNNER_IMAGE / "requirements.txt"
LOCK = REPO / "requirements-dev.lock"
IMAGE = "nbqueue-runner:test"
LINUX_PY311 = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "implementation_name": "cpython",
    "extra": "",
}
# What a job pod's securityContext says (server/src/backends/kubernetes/manifest.ts).
POD_SECURITY = [
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges",
    "--network=host",
]


# This host reaches PyPI through a TLS-inspecting proxy: containers get its CA bundle.
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"
HOST_TLS = (
    ["-v", f"{HOST_CA}:{HOST_CA}:ro", "-e", f"SSL_CERT_FILE={HOST_CA}"]
    if os.path.exists(HOST_CA)
    else []
)


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            assert "==" in line, f"not pinned with ==: {line!r}"
            name, version = line.split("==", 1)
            found[norm(name)] = version.strip()
    return found


def engine(*args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
    """docker or podman with this host's settings (images/engine.sh)."""
    result = subprocess.run(
        ["bash", "-c", 'source images/engine.sh && "${ENGINE[@]}" "$@"', "engine", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="session")
def image() -> str:
    """Builds the image unless the cached one was built from the same files (a second is 0.2 s)."""
    build = subprocess.run(
        ["bash", "images/build.sh", "--base", "local", "runner"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    return IMAGE


def run_in(
    image: str, *args: str, volumes=(), env=None, timeout: float = 240, user: str = "1000:1000"
):
    flags = [f"--user={user}", *POD_SECURITY, *HOST_TLS]
    for host, container, mode in volumes:
        flags += ["-v", f"{host}:{container}:{mode}"]
    for name, value in (env or {}).items():
        flags += ["-e", f"{name}={value}"]
    return engine("run", "--rm", *flags, *args, timeout=timeout, check=False)


def shared_dir(path: Path, uid: int = 1000) -> Path:
    """A host folder the container's `uid` may write (these tests run as root here)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(path, uid, uid)
    return path


def test_production_base_is_the_cuda_runtime():
    # The production base cannot be pulled here; its default is the one fact read from the text.
    default = re.search(r"^ARG CUDA_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.M).group(1)
    assert re.fullmatch(r"nvidia/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu\d\d\.04", default)


def test_the_image_runs_the_runner_as_uid_1000_in_work(image):
    config = json.loads(engine("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    assert config["Entrypoint"] == ["python", "-m", "nbqueue.runner"]
    assert config["User"] == "1000:1000"
    assert config["WorkingDir"] == "/work"
    # Without an explicit --user (as a pod without runAsUser) it is still uid 1000.
    ran = engine("run", "--rm", "--network=host", "--entrypoint", "sh", image, "-c", "id -u; pwd")
    assert ran.stdout.split() == ["1000", "/work"]


def test_the_pinned_packages_are_installed_and_importable_and_uv_is_present(image):
    script = (
        "import importlib.metadata as m, json, shutil, subprocess\n"
        "import nbqueue.runner.job, ipykernel, nbclient, jupyter_client, pynvml, psutil\n"
        "from nbqueue.environment.install import find_uv\n"
        "uv = find_uv()\n"
        "dists = {d.metadata['Name']: d.version for d in m.distributions()}\n"
        "version = subprocess.check_output([str(uv), '--version'], text=True)\n"
        "print(json.dumps({'dists': dists, 'uv': str(uv), 'uv_version': version}))"
    )
    ran = run_in(image, "--entrypoint", "python", image, "-c", script)
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout)
    installed = {norm(name): version for name, version in found["dists"].items()}
    for name, version in pins(REQUIREMENTS.read_text()).items():
        assert installed.get(name) == version, f"{name}: image has {installed.get(name)}"
    assert installed["nbqueue"] == importlib.metadata.version("nbqueue")
    assert found["uv"].startswith("/opt/nbqueue/")
    assert found["uv_version"].split()[:2] == ["uv", pins(REQUIREMENTS.read_text())["uv"]]


def run_job(image, sidecar, *, volumes=(), env=None, timeout=240):
    env = {
        "NBQUEUE_URL": sidecar.url,
        "NBQUEUE_JOB_ID": JOB_ID,
        "NBQUEUE_JOB_TOKEN": JOB_TOKEN,
        "NBQUEUE_SYSTEM_METRICS_SECONDS": "0",
        **(env or {}),
    }
    ran = run_in(image, image, volumes=volumes, env=env, timeout=timeout)
    assert sidecar.finishes, f"no finish (exit {ran.returncode}):\n{ran.stdout}\n{ran.stderr}"
    return ran, sidecar.finishes[0]


def outputs(notebook: dict) -> list[str]:
    return [
        "".join(o.get("text", "") for o in cell.get("outputs", [])) for cell in notebook["cells"]
    ]


def test_a_job_runs_in_the_image_as_uid_1000_and_writes_only_its_working_folder(image, tmp_path):
    work = shared_dir(tmp_path / "work")
    notebook = make_notebook(
        "import os, sys\nprint(os.getuid(), os.getgid(), sys.executable, os.getcwd())",
        "open('result.txt', 'w').write('ok')\nprint('wrote', os.path.abspath('result.txt'))",
        # Outside the working folder and the image's home, nothing is writable.
        "denied = []\n"
        "for p in ('/opt/nbqueue/lib/x', '/usr/lib/x', '/etc/x', '/x'):\n"
        "    try:\n"
        "        open(p, 'w')\n"
        "    except PermissionError:\n"
        "        denied.append(p)\n"
        "print(len(denied))",
    )
    with FakeSidecar(notebook) as sidecar:
        sidecar.payload["kernel"] = {"name": "python3"}
        ran, finish = run_job(image, sidecar, volumes=[(work, "/work", "rw")])
    assert ran.returncode == 0, ran.stderr
    assert finish["state"] == "succeeded", finish
    out = outputs(finish["notebook"])
    assert out[0].split() == ["1000", "1000", "/opt/nbqueue/bin/python", "/work"]
    assert out[1].strip() == "wrote /work/result.txt"
    assert out[2].strip() == "4"
    assert (work / "result.txt").read_text() == "ok"


def restore(cache: str, packages: list[dict]) -> dict:
    return {
        "mode": "restore",
        "captured": {"python": {"version": "3.11.2"}, "packages": packages},
        "restore": {"cache_dir": cache},
    }


def test_a_captured_environment_is_restored_with_uv_over_the_images_packages(image, tmp_path):
    cache = shared_dir(tmp_path / "envs")
    notebook = make_notebook("import tzdata\nprint(tzdata.__version__, tzdata.__file__)")
    with FakeSidecar(notebook) as sidecar:
        # The image has tzdata 2026.6; the captured kernel had 2024.1.
        sidecar.payload["environment"] = restore(
            "/cache", [{"name": "tzdata", "version": "2024.1"}]
        )
        ran, finish = run_job(image, sidecar, volumes=[(cache, "/cache", "rw")])
        logs = [e["message"] for e in sidecar.ordered_events() if e["type"] == "log"]
    assert finish["state"] == "succeeded", (finish.get("reason"), ran.stdout, ran.stderr)
    version, where = outputs(finish["notebook"])[0].split()
    assert version == "2024.1"
    assert where.startswith("/cache/")
    assert any("installing 1 package with uv" in m for m in logs), logs


def run_pod(image, sidecar, cache):
    """One job pod with backend.kubernetes.environment_cache (manifest.ts): the init container
    (uid 1001, the cache read-write) prepares the environment, then the runner (uid 1000, the
    cache read-only) runs the job."""
    prepared = run_in(
        image,
        "--entrypoint",
        "python",
        image,
        "-m",
        "nbqueue.environment.prepare",
        user="1001:1001",
        volumes=[(cache, "/cache", "rw")],
        env={
            "NBQUEUE_URL": sidecar.url,
            "NBQUEUE_JOB_ID": JOB_ID,
            "NBQUEUE_JOB_TOKEN": JOB_TOKEN,
            "HOME": "/tmp",
        },
    )
    assert prepared.returncode == 0, prepared.stderr
    return prepared.stderr, *run_job(image, sidecar, volumes=[(cache, "/cache", "ro")])


def test_a_job_cannot_change_a_cached_environment_another_job_uses(image, tmp_path):
    # The cache belongs to the init container's user; the jobs' user only reads it.
    cache = shared_dir(tmp_path / "envs", uid=1001)
    environment = restore("/cache", [{"name": "tzdata", "version": "2024.1"}])
    tamper = make_notebook(
        "import tzdata, pathlib\n"
        "init = pathlib.Path(tzdata.__file__)\n"
        "try:\n"
        "    init.write_text(init.read_text() + '\\nTAMPERED = True\\n')\n"
        "    print('tampered')\n"
        "except OSError as e:\n"
        "    print('refused', type(e).__name__)"
    )
    with FakeSidecar(tamper) as sidecar:
        sidecar.payload["environment"] = environment
        prepared, _, first = run_pod(image, sidecar, cache)
        logs = [e["message"] for e in sidecar.ordered_events() if e["type"] == "log"]
    assert "installing 1 package with uv" in prepared, prepared
    assert first["state"] == "succeeded", first
    assert outputs(first["notebook"])[0].startswith("refused"), outputs(first["notebook"])
    # The runner found what the init container built.
    assert any("cache hit" in m for m in logs), logs
    check = make_notebook("import tzdata\nprint(getattr(tzdata, 'TAMPERED', False))")
    with FakeSidecar(check) as sidecar:
        sidecar.payload["environment"] = environment
        _, _, second = run_pod(image, sidecar, cache)
    assert second["state"] == "succeeded", second
    assert outputs(second["notebook"])[0].strip() == "False"


def test_requirements_match_the_dev_lock():
    lock = pins(LOCK.read_text())
    required = pins(REQUIREMENTS.read_text())
    for name in ("nbclient", "nbformat", "ipykernel", "jupyter-client"):
        assert name in required
    for name, version in required.items():
        assert lock.get(name) == version, f"{name}=={version} but the lock has {lock.get(name)}"
    dockerfile_pins = re.findall(r"([A-Za-z][\w.-]*)==([\w.]+)", DOCKERFILE.read_text())
    for name, version in dockerfile_pins:
        assert lock.get(norm(name)) == version, f"Dockerfile pins {name}=={version}"


def test_requirements_are_closed_under_dependencies():
    """Every dependency (on Linux, Python 3.11) of a pinned package is pinned as well."""
    required = pins(REQUIREMENTS.read_text())
    for name in required:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(f"{name} is pinned for the image but not installed in the dev venv")
        for spec in dist.requires or []:
            requirement = Requirement(spec)
            if requirement.marker and not requirement.marker.evaluate(LINUX_PY311):
                continue
            assert norm(requirement.name) in required, f"{name} needs {requirement.name}"
