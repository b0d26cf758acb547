"""What a restore has to do: compare the capture with what the image's Python already has.

Pure: no I/O. The image's packages are kept where the capture has the same version (nothing to
install), or a CPU build of the same version of a GPU project (see gpu.py); everything else is
installed into the job's virtualenv, which sees the image's packages underneath it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .gpu import Substitution, gpu_substitute, index_build
from .spec import EXCLUDED, CapturedEnvironment, Package

# PEP 508 names and PEP 440 versions (local labels and epochs included), loosely.
VALID_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
VALID_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")
VCS = frozenset({"git", "hg", "svn", "bzr"})


@dataclass(frozen=True)
class Problem:
    """A package (or the interpreter) that cannot be restored, and why, for a person."""

    what: str  # "mylib 0.1" or "Python 3.12"
    why: str

    def line(self) -> str:
        return f"{self.what}: {self.why}"

    def as_dict(self) -> dict:
        return {"package": self.what, "why": self.why}


@dataclass
class Plan:
    install: list[Package] = field(default_factory=list)
    kept: list[Package] = field(default_factory=list)  # the image has the same version
    substitutions: list[Substitution] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def local_path_problem(package: Package) -> Problem:
    kind = "an editable install" if package.editable else "installed"
    return Problem(
        f"{package.name} {package.version}",
        f"{kind} from the local path {package.local_path}, which the runner cannot reach; "
        "publish it to a package index or add it to the image",
    )


def plan_restore(
    env: CapturedEnvironment,
    base: dict[str, tuple[str, str]],
    image_python: str,
    exclude: frozenset[str] = frozenset(),
) -> Plan:
    """`base`: canonical name -> (name, version) of the image's distributions; `image_python`:
    its version ("3.11.9"); `exclude`: canonical names the operator never restores."""
    plan = Plan()
    image_minor = ".".join(image_python.split(".")[:2])
    if env.python_minor != image_minor:
        plan.problems.append(
            Problem(
                f"Python {env.python_version}",
                f"the kernel ran Python {env.python_minor} but the image has Python "
                f"{image_minor}; use an image with Python {env.python_minor}",
            )
        )
    for package in env.packages:
        if package.key in EXCLUDED or package.key in exclude:
            continue
        if not VALID_NAME.match(package.name) or not VALID_VERSION.match(package.version):
            plan.problems.append(
                Problem(f"{package.name} {package.version}", "not a valid name and version")
            )
            continue
        if package.vcs and package.vcs not in VCS:
            plan.problems.append(
                Problem(f"{package.name} {package.version}", f"unknown VCS {package.vcs!r}")
            )
            continue
        have = base.get(package.key)
        if have is not None and have[1] == package.version and not package.vcs:
            plan.kept.append(package)
            continue
        substitution = gpu_substitute(package, base)
        if substitution is not None:
            plan.substitutions.append(substitution)
            continue
        if package.local_path:
            plan.problems.append(local_path_problem(package))
            continue
        from_index = index_build(package)
        if from_index is not None:
            package, substitution = from_index
            plan.substitutions.append(substitution)
            if base.get(package.key, ("", ""))[1] == package.version:
                continue  # the image has that very build
        plan.install.append(package)
    return plan
