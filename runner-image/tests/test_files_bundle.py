"""Manifests, bundles (write and safe unpack), the size cap, and collecting a run's outputs."""

from __future__ import annotations

import io
import os
import tarfile
import time
from pathlib import Path

import pytest

from nbqueue.files import (
    BundleError,
    build_manifest,
    collect_outputs,
    extract_bundle,
    snapshot,
    write_bundle,
)


def write(root: Path, rel: str, data: bytes | str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)
    return path


def test_manifest_sizes_and_json(tmp_path):
    write(tmp_path, "train.ipynb", "{}")
    write(tmp_path, "data/x.csv", b"a" * 1000)
    write(tmp_path, "data/y.csv", b"b" * 500)
    write(tmp_path, "big.bin", b"c" * 3000)
    write(tmp_path, ".nbqueueignore", "*.bin\n")
    manifest = build_manifest(str(tmp_path), max_bytes=10_000)
    doc = manifest.to_json()
    assert [f["path"] for f in doc["files"]] == [
        ".nbqueueignore",
        "data/x.csv",
        "data/y.csv",
        "train.ipynb",
    ]
    assert doc["total_bytes"] == 1000 + 500 + 2 + len("*.bin\n")
    assert doc["left_out"] == [{"path": "big.bin", "reason": ".nbqueueignore: *.bin", "size": 3000}]
    assert doc["over_cap"] is False and doc["problem"] is None
    assert doc["largest"][0] == {"path": "data/", "size": 1500}


def test_over_the_cap_says_what_to_ignore(tmp_path):
    write(tmp_path, "train.ipynb", "{}")
    write(tmp_path, "weights/model.pt", b"w" * 5000)
    write(tmp_path, "raw.parquet", b"r" * 2000)
    manifest = build_manifest(str(tmp_path), max_bytes=4096)
    assert manifest.over_cap
    problem = manifest.problem()
    assert "over the 4.0 KB limit" in problem
    assert ".nbqueueignore" in problem
    assert problem.index("weights/ (4.9 KB)") < problem.index("raw.parquet (2.0 KB)")
    # Ignoring what it names brings it under.
    write(tmp_path, ".nbqueueignore", "weights/\n")
    assert not build_manifest(str(tmp_path), max_bytes=4096).over_cap


def test_bundle_round_trip(tmp_path):
    src = tmp_path / "src"
    write(src, "train.ipynb", "{}")
    write(src, "data/input.csv", "x,y\n1,2\n")
    write(src, "deep/er/blob.bin", os.urandom(70_000))
    write(src, "__pycache__/junk.pyc", b"junk")
    link = src / "alias.csv"
    link.symlink_to(src / "data" / "input.csv")
    old = time.time() - 3600
    os.utime(src / "data" / "input.csv", (old, old))
    manifest = build_manifest(str(src))
    buffer = io.BytesIO()
    count = write_bundle(manifest.root, [p for p, _ in manifest.files], buffer)
    assert count == 4
    buffer.seek(0)
    with tarfile.open(fileobj=buffer, mode="r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert set(members) == {"train.ipynb", "data/input.csv", "deep/er/blob.bin", "alias.csv"}
    assert all(m.isfile() and m.uid == 0 and m.uname == "" for m in members.values())

    dest = tmp_path / "dest"
    dest.mkdir()
    buffer.seek(0)
    written = dict(extract_bundle(buffer, str(dest)))
    assert written["deep/er/blob.bin"] == 70_000
    assert (dest / "deep/er/blob.bin").read_bytes() == (src / "deep/er/blob.bin").read_bytes()
    assert (dest / "alias.csv").read_text() == "x,y\n1,2\n"
    assert not (dest / "alias.csv").is_symlink()
    assert abs((dest / "data/input.csv").stat().st_mtime - old) < 2
    assert not (dest / "__pycache__").exists()


def _tar_with(tmp_path: Path, add) -> Path:
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        add(tar)
    return path


def _file(tar: tarfile.TarFile, name: str, data: bytes = b"x") -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(
    ("what", "add"),
    [
        ("parent path", lambda tar: _file(tar, "../escape.txt")),
        ("absolute path", lambda tar: _file(tar, "/tmp/escape.txt")),
        (
            "symlink",
            lambda tar: tar.addfile(_link("link", "/etc/passwd")),
        ),
    ],
)
def test_unsafe_bundles_are_refused_whole(tmp_path, what, add):
    def build(tar):
        _file(tar, "fine.txt")
        add(tar)

    archive = _tar_with(tmp_path, build)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(BundleError):
        extract_bundle(str(archive), str(dest))
    assert list(dest.iterdir()) == []  # nothing written, not even the fine file
    assert not (tmp_path / "escape.txt").exists()


def _link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


def test_not_a_tar_file(tmp_path):
    garbage = tmp_path / "x.tar.gz"
    garbage.write_bytes(b"this is not gzip")
    with pytest.raises(BundleError, match="not a readable tar.gz"):
        extract_bundle(str(garbage), str(tmp_path))


def test_collect_new_and_modified_files_only(tmp_path):
    write(tmp_path, "train.ipynb", "{}")
    write(tmp_path, "input.csv", "1\n")
    write(tmp_path, "unchanged.txt", "same")
    before = snapshot(str(tmp_path))
    write(tmp_path, "input.csv", "1\n2\n")  # modified
    write(tmp_path, "out/result.csv", "a,b\n")  # new
    write(tmp_path, "model.ckpt", b"\0" * 100)
    write(tmp_path, "__pycache__/x.pyc", b"c")  # default-ignored
    write(tmp_path, "train.ipynb", '{"changed": true}')  # the job's notebook: never comes back
    collected = collect_outputs(str(tmp_path), before, max_bytes=10_000, exclude={"train.ipynb"})
    assert collected.files == [("input.csv", 4), ("model.ckpt", 100), ("out/result.csv", 4)]
    assert collected.left_out == []


def test_collect_cap_leaves_out_what_does_not_fit(tmp_path):
    before = snapshot(str(tmp_path))
    write(tmp_path, "a-small.csv", b"a" * 100)
    write(tmp_path, "b-huge.ckpt", b"b" * 5000)
    write(tmp_path, "c-small.csv", b"c" * 100)
    collected = collect_outputs(str(tmp_path), before, max_bytes=1000)
    assert [p for p, _ in collected.files] == ["a-small.csv", "c-small.csv"]
    assert collected.left_out == [
        ("b-huge.ckpt", 5000, "over the 1000 B limit for a job's output files")
    ]
    assert "left out: b-huge.ckpt (4.9 KB)" in collected.summary()
