"""Bring a submitted notebook to nbformat 4.5 so every cell has an id events can name."""

from __future__ import annotations

import nbformat
from nbformat.corpus.words import generate_corpus_id
from nbformat.v4.rwbase import rejoin_lines

CURRENT_MINOR = 5


def new_cell_id(taken: set[str]) -> str:
    cell_id = generate_corpus_id()
    while cell_id in taken:
        cell_id = generate_corpus_id()
    taken.add(cell_id)
    return cell_id


def normalize_notebook(nb_json: dict) -> nbformat.NotebookNode:
    """A NotebookNode at nbformat 4.5 or later, as `nbformat.read` gives it: multi-line strings
    that the file stores as lists of lines (sources, stream texts, text outputs) joined; missing
    cell ids added, never one changed. The sidecar has normalised already; the runner does it
    again so that it never depends on who built the notebook."""
    nb = rejoin_lines(nbformat.from_dict(nb_json))
    if nb.get("nbformat") != 4:
        nb = nbformat.convert(nb, 4)
    if nb.get("nbformat_minor", 0) < CURRENT_MINOR:
        nb.nbformat_minor = CURRENT_MINOR
    nb.setdefault("metadata", nbformat.NotebookNode())
    taken = {cell["id"] for cell in nb.cells if cell.get("id")}
    for cell in nb.cells:
        if not cell.get("id"):
            cell["id"] = new_cell_id(taken)
        cell.setdefault("metadata", nbformat.NotebookNode())
        if cell.get("cell_type") == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
    return nb


def clear_code_outputs(nb: nbformat.NotebookNode) -> None:
    """Start from a clean slate, as papermill does: a result shows only this run's outputs."""
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
