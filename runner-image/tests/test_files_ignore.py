"""`.nbqueueignore` follows gitignore semantics; default ignores; checked on real trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbqueue.files import build_manifest


def tree(root: Path, paths: list[str], ignore: str | None = None) -> Path:
    for rel in paths:
        target = root / rel
        if rel.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"content of {rel}\n")
    if ignore is not None:
        (root / ".nbqueueignore").write_text(ignore)
    return root


def going(root: Path, ignore: str | None, paths: list[str]) -> set[str]:
    tree(root, paths, ignore)
    return {p for p, _ in build_manifest(str(root)).files} - {".nbqueueignore"}


FILES = [
    "train.ipynb",
    "data.csv",
    "logs/run.log",
    "logs/keep.log",
    "build/out.bin",
    "src/build/gen.py",
    "src/model.py",
    "doc/a.txt",
    "doc/deep/b.txt",
    "a/b",
    "a/x/y/b",
    "top.txt",
    "sub/top.txt",
    "notes#1.md",
    "space .txt",
    "weights/model.pt",
    "weights/small.pt",
]

# (case, .nbqueueignore, paths that must stay behind, paths that must go)
TABLE = [
    ("glob anywhere", "*.log\n", ["logs/run.log", "logs/keep.log"], ["data.csv"]),
    ("negation re-includes", "*.log\n!keep.log\n", ["logs/run.log"], ["logs/keep.log"]),
    ("later line wins", "!keep.log\n*.log\n", ["logs/keep.log"], []),
    (
        "dir-only pattern matches directories, at any depth",
        "build/\n",
        ["build/out.bin", "src/build/gen.py"],
        ["src/model.py"],
    ),
    ("leading slash anchors to the root", "/build/\n", ["build/out.bin"], ["src/build/gen.py"]),
    ("anchored file", "/top.txt\n", ["top.txt"], ["sub/top.txt"]),
    ("a middle slash anchors too", "doc/*.txt\n", ["doc/a.txt"], ["doc/deep/b.txt"]),
    ("** matches any depth", "doc/**/*.txt\n", ["doc/a.txt", "doc/deep/b.txt"], []),
    ("a/**/b matches a/b", "a/**/b\n", ["a/b", "a/x/y/b"], []),
    ("leading **/", "**/top.txt\n", ["top.txt", "sub/top.txt"], []),
    ("trailing /** keeps the directory's name", "weights/**\n", ["weights/model.pt"], []),
    (
        "cannot re-include a file whose directory is excluded",
        "weights/\n!weights/small.pt\n",
        ["weights/small.pt", "weights/model.pt"],
        [],
    ),
    (
        "re-include inside a directory whose contents are excluded",
        "weights/*\n!weights/small.pt\n",
        ["weights/model.pt"],
        ["weights/small.pt"],
    ),
    ("comments and blank lines", "# *.csv\n\n   \n", [], ["data.csv"]),
    ("escaped hash", "\\#*\nnotes\\#1.md\n", ["notes#1.md"], []),
    ("character class", "*.[cb]sv\n", ["data.csv"], []),
    ("question mark is one character", "doc/?.txt\n", ["doc/a.txt"], ["doc/deep/b.txt"]),
    ("trailing space trimmed", "data.csv   \n", ["data.csv"], []),
    ("pattern names a directory without slash", "logs\n", ["logs/run.log", "logs/keep.log"], []),
]


@pytest.mark.parametrize(
    ("ignore", "out", "kept"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE]
)
def test_gitignore_semantics(tmp_path, ignore, out, kept):
    goes = going(tmp_path, ignore, FILES)
    for path in out:
        assert path not in goes, f"{path} should stay behind"
    for path in kept:
        assert path in goes, f"{path} should go"
    # Everything not named by the case goes unless the pattern could plausibly match it.
    assert "train.ipynb" in goes


def test_nested_ignore_file_applies_below_its_directory(tmp_path):
    tree(tmp_path, ["data.csv", "sub/data.csv", "sub/deep/data.csv", "sub/x.csv"])
    (tmp_path / "sub" / ".nbqueueignore").write_text("/data.csv\n*.csv\n!x.csv\n")
    goes = {p for p, _ in build_manifest(str(tmp_path)).files}
    assert "data.csv" in goes  # the nested file does not reach up
    assert "sub/data.csv" not in goes
    assert "sub/deep/data.csv" not in goes
    assert "sub/x.csv" in goes


def test_deeper_ignore_file_wins(tmp_path):
    tree(tmp_path, ["sub/a.log"], "*.log\n")
    (tmp_path / "sub" / ".nbqueueignore").write_text("!a.log\n")
    goes = {p for p, _ in build_manifest(str(tmp_path)).files}
    assert "sub/a.log" in goes


def test_default_ignores_and_their_reasons(tmp_path):
    tree(
        tmp_path,
        [
            "train.ipynb",
            ".git/HEAD",
            ".venv/lib/x.py",
            "venv/lib/y.py",
            "env2/pyvenv.cfg",
            "env2/lib/z.py",
            "__pycache__/m.cpython-311.pyc",
            "pkg/__pycache__/n.pyc",
            "node_modules/left-pad/index.js",
            ".ipynb_checkpoints/train-checkpoint.ipynb",
            "pkg/mod.py",
            ".hidden_config",
        ],
    )
    manifest = build_manifest(str(tmp_path))
    goes = {p for p, _ in manifest.files}
    assert goes == {"train.ipynb", "pkg/mod.py", ".hidden_config"}
    reasons = {p: r for p, r, _ in manifest.left_out}
    assert reasons[".git/"] == "default ignore: version control (.git)"
    assert reasons["env2/"] == "default ignore: virtualenv (contains pyvenv.cfg)"
    assert reasons["venv/"] == "default ignore: virtualenv (venv)"
    assert reasons["pkg/__pycache__/"] == "default ignore: Python bytecode cache"
    assert set(reasons) == {
        ".git/",
        ".venv/",
        "venv/",
        "env2/",
        "__pycache__/",
        "pkg/__pycache__/",
        "node_modules/",
        ".ipynb_checkpoints/",
    }
    sizes = {p: s for p, _, s in manifest.left_out}
    assert sizes["node_modules/"] == len("content of node_modules/left-pad/index.js\n")


def test_default_ignore_can_be_re_included(tmp_path):
    tree(tmp_path, ["node_modules/lib.js", "a.py"], "!node_modules/\n")
    goes = {p for p, _ in build_manifest(str(tmp_path)).files}
    assert "node_modules/lib.js" in goes


def test_ignore_reason_names_the_file_and_line(tmp_path):
    tree(tmp_path, ["big.bin", "a.py"], "# weights\n*.bin\n")
    manifest = build_manifest(str(tmp_path))
    assert manifest.left_out == [("big.bin", ".nbqueueignore: *.bin", len("content of big.bin\n"))]


def test_symlinks(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("x")
    root = tree(tmp_path / "nb", ["data.csv", "sub/inner.txt"])
    (root / "link-in.csv").symlink_to(root / "data.csv")
    (root / "link-out.txt").symlink_to(outside / "secret.txt")
    (root / "link-dir").symlink_to(root / "sub")
    (root / "loop").symlink_to(root)
    manifest = build_manifest(str(root))
    goes = {p for p, _ in manifest.files}
    assert goes == {"data.csv", "sub/inner.txt", "link-in.csv"}
    reasons = {p: r for p, r, _ in manifest.left_out}
    assert reasons["link-out.txt"] == "symbolic link to a file outside the notebook's directory"
    assert reasons["link-dir/"] == "symbolic link to a directory"
    assert reasons["loop/"] == "symbolic link to a directory"
