"""The wheel `pip install .` builds: the package, the server-extension config, the labextension."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import REPO

DATA = "nbqueue-0.1.0.data/data/"
LABEXT = DATA + "share/jupyter/labextensions/nbqueue-labextension/"


def build_wheel(tmp_path, with_lab_dist: bool) -> zipfile.ZipFile:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "install.json"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "jupyter-config", src / "jupyter-config")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(
        REPO / "runner-image" / "nbqueue", src / "runner-image" / "nbqueue", ignore=ignore
    )
    shutil.copy(REPO / "runner-image" / "hatch_build.py", src / "runner-image" / "hatch_build.py")
    if with_lab_dist:
        lab_dist = src / "labextension" / "lab-dist"
        (lab_dist / "static").mkdir(parents=True)
        (lab_dist / "package.json").write_text('{"name": "nbqueue-labextension"}')
        (lab_dist / "static" / "remoteEntry.abc.js").write_text("// built")
    out = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = out.glob("nbqueue-0.1.0-*.whl")
    return zipfile.ZipFile(wheel)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    return {
        "with": build_wheel(tmp_path_factory.mktemp("with"), True),
        "without": build_wheel(tmp_path_factory.mktemp("without"), False),
    }


def test_package_and_server_config_always_shipped(wheels):
    for wheel in wheels.values():
        names = set(wheel.namelist())
        assert {
            "nbqueue/__init__.py",
            "nbqueue/server_extension.py",
            "nbqueue/connection.py",
        } <= names
        assert "nbqueue/runner/__main__.py" in names
        assert not any("tests/" in n or n.endswith(".pyc") for n in names)
        config = json.loads(wheel.read(DATA + "etc/jupyter/jupyter_server_config.d/nbqueue.json"))
        assert config == {"ServerApp": {"jpserver_extensions": {"nbqueue": True}}}


def test_labextension_shipped_when_built(wheels):
    wheel = wheels["with"]
    names = set(wheel.namelist())
    assert LABEXT + "package.json" in names
    assert LABEXT + "static/remoteEntry.abc.js" in names
    install = json.loads(wheel.read(LABEXT + "install.json"))
    assert install == {
        "packageManager": "python",
        "packageName": "nbqueue-labextension",
        "uninstallInstructions": "pip uninstall nbqueue",
    }


def test_build_does_not_fail_without_lab_dist(wheels):
    assert not any(n.startswith(LABEXT) for n in wheels["without"].namelist())


def test_no_nbqueue_console_script(wheels):
    for wheel in wheels.values():
        entry_points = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
        for name in entry_points:
            assert "nbqueue =" not in wheel.read(name).decode()


def test_version_and_extension_points():
    import nbqueue

    assert nbqueue.__version__ == "0.1.0"
    from nbqueue.server_extension import NbqueueExtension

    assert nbqueue._jupyter_server_extension_points() == [
        {"module": "nbqueue", "app": NbqueueExtension}
    ]
    assert nbqueue._jupyter_labextension_paths() == [
        {"src": "labextension", "dest": "nbqueue-labextension"}
    ]


def test_enabled_by_package_name_the_extension_app_loads(jp_serverapp):
    # What the shipped jupyter_server_config.d/nbqueue.json enables: {"nbqueue": true}.
    from nbqueue.server_extension import NbqueueExtension

    point = jp_serverapp.extension_manager.extension_points["nbqueue"]
    assert isinstance(point.app, NbqueueExtension)
    assert jp_serverapp.extension_manager.extensions["nbqueue"].enabled
