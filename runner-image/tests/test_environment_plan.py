"""The pure parts of the environment restore: normalising, hashing, planning, GPU substitution,
and the sentences for installer failures."""

from __future__ import annotations

import pytest

from nbqueue.environment.gpu import gpu_substitute
from nbqueue.environment.install import IndexSettings, failure_reason
from nbqueue.environment.plan import plan_restore
from nbqueue.environment.restore import RestoreFailed, RestoreSettings
from nbqueue.environment.spec import (
    InvalidEnvironment,
    Package,
    environment_hash,
    parse_environment,
)


def captured(*packages, python="3.11.7") -> dict:
    return {
        "python": {"version": python, "platform": "linux"},
        "packages": [
            p if isinstance(p, dict) else {"name": p[0], "version": p[1]} for p in packages
        ],
    }


def base(**versions: str) -> dict[str, tuple[str, str]]:
    return {name.replace("_", "-"): (name.replace("_", "-"), v) for name, v in versions.items()}


# -- normalising and hashing ---------------------------------------------------------------


def test_names_are_normalised_and_the_first_of_a_name_wins():
    env = parse_environment(
        captured(("Typing_Extensions", "4.12.2"), ("six", "1.16.0"), ("typing.extensions", "1.0"))
    )
    assert [(p.key, p.version) for p in env.packages] == [
        ("six", "1.16.0"),
        ("typing-extensions", "4.12.2"),
    ]


def test_the_hash_ignores_order_and_spelling_but_not_versions_or_the_base():
    a = parse_environment(captured(("six", "1.16.0"), ("Tomli", "2.0.1")))
    b = parse_environment(captured(("tomli", "2.0.1"), ("six", "1.16.0")))
    c = parse_environment(captured(("tomli", "2.0.2"), ("six", "1.16.0")))
    assert environment_hash(a) == environment_hash(b)
    assert environment_hash(a) != environment_hash(c)
    assert environment_hash(a, {"packages": ["six==1.17.0"]}) != environment_hash(
        a, {"packages": ["six==1.16.0"]}
    )


def test_the_runner_itself_and_pip_do_not_count():
    a = parse_environment(captured(("six", "1.16.0")))
    b = parse_environment(captured(("six", "1.16.0"), ("pip", "24.0"), ("nbqueue", "0.1.0")))
    assert environment_hash(a) == environment_hash(b)


def test_credentials_in_urls_are_dropped():
    env = parse_environment(
        captured(
            {
                "name": "private",
                "version": "1.0",
                "url": "https://bob:s3cret@example.com/private-1.0.tar.gz",
            }
        )
    )
    assert env.packages[0].url == "https://example.com/private-1.0.tar.gz"
    assert "s3cret" not in environment_hash(env)


@pytest.mark.parametrize(
    "bad, what",
    [
        ({"packages": []}, "python"),
        ({"python": {"version": "3.11"}, "packages": {}}, "packages"),
        ({"python": {"version": "3.11"}, "packages": [{"name": "six"}]}, "packages[0].version"),
    ],
)
def test_a_malformed_capture_says_what_is_wrong(bad, what):
    with pytest.raises(InvalidEnvironment, match=what.replace("[", r"\[").replace("]", r"\]")):
        parse_environment(bad)


def test_requirements_for_each_source():
    assert Package("six", "1.16.0").requirement() == "six==1.16.0"
    vcs = Package("lib", "0.1", url="https://github.com/o/lib.git", vcs="git", commit="abc123")
    assert vcs.requirement() == "lib @ git+https://github.com/o/lib.git@abc123"
    archive = Package("lib", "0.1", url="https://example.com/lib-0.1.tar.gz")
    assert archive.requirement() == "lib @ https://example.com/lib-0.1.tar.gz"
    local = Package("lib", "0.1", editable=True, url="file:///home/ada/lib")
    assert local.local_path == "/home/ada/lib"


# -- planning ------------------------------------------------------------------------------


def test_only_what_the_image_lacks_or_has_at_another_version_is_installed():
    env = parse_environment(
        captured(("six", "1.16.0"), ("tomli", "2.0.1"), ("packaging", "26.3"), ("pip", "24"))
    )
    plan = plan_restore(env, base(six="1.17.0", packaging="26.3", pip="25"), "3.11.9")
    assert [p.key for p in plan.install] == ["six", "tomli"]
    assert [p.key for p in plan.kept] == ["packaging"]
    assert plan.problems == []


def test_local_paths_and_another_python_are_problems_named_with_why():
    env = parse_environment(
        captured(
            ("six", "1.16.0"),
            {"name": "mylib", "version": "0.1", "editable": True, "url": "file:///home/ada/mylib"},
            {
                "name": "wheelie",
                "version": "2.0",
                "url": "file:///tmp/wheelie-2.0-py3-none-any.whl",
            },
            python="3.12.1",
        )
    )
    plan = plan_restore(env, {}, "3.11.9")
    lines = [p.line() for p in plan.problems]
    assert lines[0].startswith("Python 3.12.1: the kernel ran Python 3.12 but the image has")
    assert "mylib 0.1: an editable install from the local path /home/ada/mylib" in lines[1]
    assert "wheelie 2.0: installed from the local path /tmp/wheelie-2.0" in lines[2]
    assert [p.key for p in plan.install] == ["six"]
    message = str(RestoreFailed(plan.problems))
    assert "mylib 0.1" in message and "restore.on_unavailable: skip" in message


def test_a_local_install_the_image_has_at_the_same_version_is_kept():
    env = parse_environment(
        captured({"name": "mylib", "version": "0.1", "editable": True, "url": "file:///x"})
    )
    plan = plan_restore(env, base(mylib="0.1"), "3.11.0")
    assert plan.problems == [] and [p.key for p in plan.kept] == ["mylib"]


# -- GPU builds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "captured_version, image, expected_kept",
    [
        ("2.3.0+cpu", {"torch": "2.3.0+cu121"}, "torch 2.3.0+cu121"),
        ("2.3.0", {"torch": "2.3.0+cu118"}, "torch 2.3.0+cu118"),
        ("2.3.0+cpu", {"torch": "2.3.0+rocm6.0"}, "torch 2.3.0+rocm6.0"),
        # PyPI's Linux torch is the CUDA build, with the nvidia-* runtime wheels beside it
        ("2.3.0+cpu", {"torch": "2.3.0", "nvidia-cuda-runtime-cu12": "12.1.105"}, "torch 2.3.0"),
        ("2.3.0+cpu", {"torch": "2.3.0"}, None),  # no CUDA runtime: not known to be a GPU build
        ("2.2.0+cpu", {"torch": "2.3.0+cu121"}, None),  # another version: restore as captured
        ("2.3.0+cu118", {"torch": "2.3.0+cu121"}, None),  # a GPU build is restored as captured
        ("2.3.0+cpu", {}, None),
    ],
)
def test_torch_gpu_builds_of_the_same_version_are_kept(captured_version, image, expected_kept):
    substitution = gpu_substitute(Package("torch", captured_version), base(**image))
    assert (substitution.kept if substitution else None) == expected_kept
    if substitution:
        assert substitution.captured == f"torch {captured_version}"


def test_jaxlib_and_cupy_gpu_builds_are_kept():
    jax = gpu_substitute(Package("jaxlib", "0.4.30"), base(jaxlib="0.4.30+cuda12.cudnn89"))
    assert jax is not None and jax.kept == "jaxlib 0.4.30+cuda12.cudnn89"
    cupy = gpu_substitute(Package("cupy", "13.2.0"), {"cupy-cuda12x": ("cupy-cuda12x", "13.2.0")})
    assert cupy is not None and cupy.kept == "cupy-cuda12x 13.2.0"
    assert (
        gpu_substitute(Package("cupy", "13.1.0"), {"cupy-cuda12x": ("cupy-cuda12x", "13.2.0")})
        is None
    )


def test_substitutions_are_planned_and_not_installed():
    env = parse_environment(captured(("torch", "2.3.0+cpu"), ("numpy", "1.26.4")))
    plan = plan_restore(env, base(torch="2.3.0+cu121", numpy="1.26.4"), "3.11.9")
    assert plan.install == []
    assert [s.as_dict() for s in plan.substitutions] == [
        {
            "captured": "torch 2.3.0+cpu",
            "kept": "torch 2.3.0+cu121",
            "why": "the image's GPU build of the same version",
        }
    ]


# -- messages and settings -----------------------------------------------------------------


def test_installer_complaints_become_sentences():
    pypi = IndexSettings()
    six = Package("six", "99.0")
    uv_missing = (
        "  × No solution found when resolving dependencies:\n"
        "  ╰─▶ Because nbq-nope was not found in the package registry and you require "
        "nbq-nope==1.0, we can conclude that your requirements are unsatisfiable."
    )
    assert failure_reason(Package("nbq-nope", "1.0"), uv_missing, pypi).startswith(
        "not found on the default package index (PyPI)"
    )
    pip_version = (
        "ERROR: Could not find a version that satisfies the requirement six==99.0 "
        "(from versions: 1.0.0, 1.17.0)\nERROR: No matching distribution found for six==99.0"
    )
    assert failure_reason(six, pip_version, pypi) == (
        "version 99.0 is not on the default package index (PyPI)"
    )
    private = IndexSettings("https://pypi.example.com/simple")
    assert "https://pypi.example.com/simple" in failure_reason(six, pip_version, private)


def test_settings_come_from_the_payload_then_the_environment():
    settings = RestoreSettings.from_options(
        {"on_unavailable": "skip", "extra_index_urls": ["https://x.example/simple"]},
        environ={"NBQUEUE_ENV_CACHE_DIR": "/cache/envs", "NBQUEUE_ENV_INSTALLER": "pip"},
    )
    assert settings.cache_dir == "/cache/envs"
    assert settings.installer == "pip"
    assert settings.on_unavailable == "skip"
    assert settings.index.uv_args() == ["--index", "https://x.example/simple"]
    with pytest.raises(ValueError, match="on_unavailable"):
        RestoreSettings.from_options({"on_unavailable": "ignore"}, environ={})


def test_a_cpu_build_the_image_lacks_comes_from_the_index_as_its_default_build():
    env = parse_environment(captured(("torch", "2.2.0+cpu"), ("torchvision", "0.17.0+cpu")))
    plan = plan_restore(env, base(torchvision="0.17.0"), "3.11.9")
    assert [p.requirement() for p in plan.install] == ["torch==2.2.0"]
    assert [(s.captured, s.kept) for s in plan.substitutions] == [
        ("torch 2.2.0+cpu", "torch 2.2.0"),
        ("torchvision 0.17.0+cpu", "torchvision 0.17.0"),
    ]
    assert "index's build" in plan.substitutions[0].why


def test_what_the_operator_excludes_is_neither_installed_nor_hashed():
    env = parse_environment(captured(("six", "1.16.0"), ("jupyterlab", "4.2.0")))
    plan = plan_restore(env, {}, "3.11.9", exclude=frozenset({"jupyterlab"}))
    assert [p.key for p in plan.install] == ["six"]
    alone = parse_environment(captured(("six", "1.16.0")))
    assert environment_hash(env, exclude=frozenset({"jupyterlab"})) == environment_hash(
        alone, exclude=frozenset({"jupyterlab"})
    )
    settings = RestoreSettings.from_options({"exclude": ["JupyterLab", "jupyter_server"]}, {})
    assert settings.exclude == frozenset({"jupyterlab", "jupyter-server"})
