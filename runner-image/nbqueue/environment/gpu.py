"""Keeping the image's GPU builds where the capture has a CPU build of the same version.

A notebook prototyped on a laptop has `torch 2.3.0+cpu`; the GPU image has `torch 2.3.0+cu121`
(or PyPI's Linux `torch 2.3.0`, which is the CUDA build, with its `nvidia-*` runtime wheels).
Installing the captured CPU build over it would throw the GPU away, so the image's build is kept
and the job records the substitution.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .spec import Package, local_label, public_version

# Projects published as separate CPU and CUDA builds under one name (local version labels).
LABELLED_GPU_PROJECTS = frozenset({"torch", "torchvision", "torchaudio", "jaxlib"})
# cupy has one project per CUDA major (cupy-cuda12x, cupy-cuda11x, cupy-rocm-5-0) and `cupy`
# (built from source).
CUPY = re.compile(r"^cupy(-cuda\d+x?|-rocm-[\d-]+)?$")
CUDA_RUNTIME = re.compile(r"^nvidia-cuda-runtime-cu\d+$")


@dataclass(frozen=True)
class Substitution:
    captured: str  # "torch 2.3.0+cpu"
    kept: str  # "torch 2.3.0+cu121"
    why: str

    def as_dict(self) -> dict:
        return {"captured": self.captured, "kept": self.kept, "why": self.why}


def is_gpu_label(label: str | None) -> bool:
    return bool(label) and (label.startswith("cu") or label.startswith("rocm"))


def _image_has_cuda_runtime(base: dict[str, tuple[str, str]]) -> bool:
    return any(CUDA_RUNTIME.match(key) for key in base)


def index_build(package: Package) -> tuple[Package, Substitution] | None:
    """For a captured `+cpu` build of a GPU project the image lacks: the index's build of the same
    version instead (a `+cpu` label is never on PyPI, whose Linux wheels are the CUDA builds)."""
    if package.key not in LABELLED_GPU_PROJECTS or local_label(package.version) != "cpu":
        return None
    if package.url or package.vcs:
        return None
    public = public_version(package.version)
    return (
        Package(package.name, public),
        Substitution(
            f"{package.name} {package.version}",
            f"{package.name} {public}",
            "the package index's build of the same version (CUDA on Linux)",
        ),
    )


def gpu_substitute(package: Package, base: dict[str, tuple[str, str]]) -> Substitution | None:
    """The image's GPU build to keep instead of `package`, or None.

    `base` maps canonical names to (name, version) of what the image's Python has.
    """
    key = package.key
    captured = f"{package.name} {package.version}"
    if key in LABELLED_GPU_PROJECTS and key in base:
        name, version = base[key]
        if version == package.version:
            return None  # nothing to substitute: the same build
        if local_label(package.version) not in (None, "cpu"):
            return None  # the capture is itself a GPU build: restore it as captured
        if public_version(version) != public_version(package.version):
            return None
        label = local_label(version)
        image_gpu = is_gpu_label(label) or (label is None and _image_has_cuda_runtime(base))
        if image_gpu:
            return Substitution(
                captured, f"{name} {version}", "the image's GPU build of the same version"
            )
        return None
    if CUPY.match(key):
        for other, (name, version) in sorted(base.items()):
            if (
                other not in (key, "cupy")
                and CUPY.match(other)
                and public_version(version) == public_version(package.version)
            ):
                return Substitution(captured, f"{name} {version}", "the image's CUDA build of cupy")
    return None
