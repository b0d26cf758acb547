"""The runner image cannot be built here (no Docker engine): check what its Dockerfile says."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shlex

import pytest
from packaging.requirements import Requirement

from conftest import REPO, RUNNER_IMAGE

DOCKERFILE = RUNNER_IMAGE / "Dockerfile"
REQUIREMENTS = RUNNER_IMAGE / "requirements.txt"
LOCK = REPO / "requirements-dev.lock"
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


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_base_image_is_cuda_runtime():
    steps = instructions()
    args = dict(rest.split("=", 1) for kind, rest in steps if kind == "ARG" and "=" in rest)
    bases = [rest.split()[0] for kind, rest in steps if kind == "FROM"]
    assert bases, "no FROM"
    for base in bases:
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], base)
        assert re.fullmatch(r"nvidia/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu\d\d\.04", image), image
    assert any("python3.11" in rest for kind, rest in steps if kind == "RUN")


def test_runs_as_non_root_in_work_with_the_runner_entrypoint():
    steps = instructions()
    final = steps[max(i for i, (kind, _) in enumerate(steps) if kind == "FROM") :]
    users = [rest for kind, rest in final if kind == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert users[-1].split(":")[0] == "1000"
    assert [rest for kind, rest in final if kind == "WORKDIR"][-1] == "/work"
    entrypoint = [rest for kind, rest in final if kind == "ENTRYPOINT"]
    assert json.loads(entrypoint[-1]) == ["python", "-m", "nbqueue.runner"]


def test_installs_without_pip_cache_from_pinned_requirements():
    runs = [rest for kind, rest in instructions() if kind == "RUN"]
    installs = [r for r in runs if "pip install" in r or "pip wheel" in r]
    assert installs and all("--no-cache-dir" in r for r in installs)
    assert any("-r /tmp/requirements.txt" in r for r in installs)
    for run in installs:  # anything named on a pip command line is pinned too
        for word in shlex.split(run):
            if re.match(r"^[A-Za-z][\w.-]*[=<>~]", word):
                assert "==" in word, word


def test_every_copied_path_exists():
    for kind, rest in instructions():
        if kind != "COPY" or rest.startswith("--from"):
            continue
        *sources, _dest = shlex.split(rest)
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: missing from the build context"


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
