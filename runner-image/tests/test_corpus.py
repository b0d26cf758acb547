"""Parity with papermill over the notebook corpus (runner-image/tests/corpus).

Every corpus notebook runs through papermill's Python API and through nbqueue (the CLI's
`submit --follow` and `result` against a real sidecar with the local backend), both at once.
Each must end in the state docs/protocol.md's corpus table says, and the two results must be
equal after normalising what may differ (execution counts, timings, addresses, widget model
ids, papermill's own metadata and error cells, the spelling of the injected parameters cell,
how a stream was split into messages), unless the table names the reason they differ.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from corpus.make_corpus import render
from corpus_harness import CORPUS, REPO, manifest, run_corpus, table

ENTRIES = manifest()
DOC = REPO / "docs" / "protocol.md"
TABLE_START = "<!-- corpus table: runner-image/tests/test_corpus.py checks it -->"

pytestmark = pytest.mark.timeout(900)


def documented_rows() -> dict[str, dict]:
    """The corpus table of docs/protocol.md, by notebook."""
    text = DOC.read_text()
    assert TABLE_START in text, f"{DOC} has no corpus table (marker {TABLE_START!r})"
    rows = {}
    for line in text.split(TABLE_START, 1)[1].strip().splitlines():
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = cells[0].strip("`")
        if name.endswith(".ipynb"):
            rows[name] = {"papermill": cells[2], "nbqueue": cells[3], "outputs": cells[4]}
    return rows


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    run = run_corpus(tmp_path_factory.mktemp("corpus"))
    # NBQUEUE_CORPUS_TABLE=file writes the table this run found, to paste into the docs.
    if os.environ.get("NBQUEUE_CORPUS_TABLE"):
        documented = documented_rows() if TABLE_START in DOC.read_text() else {}
        notes = {name: row["outputs"] for name, row in documented.items()}
        Path(os.environ["NBQUEUE_CORPUS_TABLE"]).write_text(table(run, ENTRIES, notes))
    return run


def test_committed_corpus_is_what_the_generator_writes():
    expected = render()
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_file() and p.suffix != ".py"}
    assert on_disk == set(expected), "run runner-image/tests/corpus/make_corpus.py"
    for name, content in expected.items():
        assert (CORPUS / name).read_bytes() == content, f"{name}: run make_corpus.py"
    assert len(ENTRIES) >= 40


def test_every_corpus_notebook_is_in_the_docs_table():
    assert sorted(documented_rows()) == sorted(e["name"] for e in ENTRIES)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["name"] for e in ENTRIES])
def test_parity_with_papermill(corpus, entry):
    name = entry["name"]
    row = documented_rows()[name]
    comparison = corpus.comparisons[name]
    got = (comparison.papermill.state, comparison.nbqueue.state)
    assert got == (row["papermill"], row["nbqueue"]), (
        f"states (papermill, nbqueue) {got}; docs/protocol.md says "
        f"{(row['papermill'], row['nbqueue'])}; papermill's reason: {comparison.papermill.reason}; "
        f"nbqueue's reason: {comparison.nbqueue.reason}"
    )
    if row["outputs"].startswith("equal"):
        assert comparison.difference is None, comparison.difference
    else:
        assert comparison.difference is not None, (
            f"the results are equal now: say so in docs/protocol.md (was: {row['outputs']})"
        )


def test_files_written_next_to_the_notebook_are_the_same(corpus):
    written = [name for entry in ENTRIES for name in entry.get("writes", [])]
    assert written
    for name in written:
        papermill, nbqueue = (corpus.folders[side] / name for side in ("papermill", "nbqueue"))
        assert nbqueue.read_text() == papermill.read_text()
