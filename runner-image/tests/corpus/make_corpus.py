"""Writes the notebook corpus: real notebooks, in their on-disk form, that nbqueue must run as
papermill does (runner-image/tests/test_corpus.py; runner-image/bench/corpus.py).

Every notebook is written with `nbformat.write` (sources as lists of lines), in several forms:
nbformat 4.0, 4.2 and 4.4 without cell ids, 4.5 with ids, some without a kernelspec.
`corpus.json` says, per notebook, what it covers, the parameters it is run with and its
deadline. The data files the notebooks read lie next to them.

Run from the repository root (idempotent; a test checks the committed files equal its output):

    .venv/bin/python runner-image/tests/corpus/make_corpus.py
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import nbformat

if not __package__:
    # Run as a script: the notebooks import `corpus.*`, as the tests (next to it) do.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import notebooks_failures, notebooks_outputs, notebooks_running  # noqa: E402
from corpus.entry import notebook  # noqa: E402

HERE = Path(__file__).resolve().parent
MANIFEST = "corpus.json"

# In this order in corpus.json.
ENTRIES = [*notebooks_running.ENTRIES, *notebooks_outputs.ENTRIES, *notebooks_failures.ENTRIES]


def render() -> dict[str, bytes]:
    """Every corpus file, by name, as the generator writes it."""
    files: dict[str, bytes] = {}
    for entry in ENTRIES:
        buffer = io.StringIO()
        nbformat.write(notebook(entry), buffer)
        files[entry.name] = buffer.getvalue().encode()
    manifest = {
        "notebooks": [
            {
                "name": entry.name,
                "covers": entry.covers,
                "nbformat": f"4.{entry.minor}",
                "parameters": entry.parameters,
                "deadline": entry.deadline,
                **entry.extra,
            }
            for entry in ENTRIES
        ]
    }
    files[MANIFEST] = (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode()
    files.update(notebooks_outputs.DATA_FILES)
    return files


def main() -> int:
    for name, content in render().items():
        path = HERE / name
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
