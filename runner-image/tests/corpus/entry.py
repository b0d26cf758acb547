"""A corpus notebook as data (`Entry`, its cells from `code`, `md`, `raw`) and the
NotebookNode it is written as (`notebook`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import nbformat


@dataclass
class Entry:
    name: str
    covers: str
    cells: list
    minor: int = 5  # nbformat 4.<minor>; below 5 the cells have no ids
    kernelspec: bool = True
    parameters: dict | None = None
    deadline: int | None = None  # seconds: nbqueue --deadline, papermill execution_timeout
    extra: dict = field(default_factory=dict)


def code(source: str, *tags: str) -> tuple:
    return ("code", source.strip("\n"), tags)


def md(source: str) -> tuple:
    return ("markdown", source.strip("\n"), ())


def raw(source: str) -> tuple:
    return ("raw", source.strip("\n"), ())


def notebook(entry: Entry) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = entry.minor
    if entry.kernelspec:
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
    nb.metadata["language_info"] = {"name": "python"}
    stem = entry.name.removesuffix(".ipynb").replace("_", "-")
    for index, (kind, source, tags) in enumerate(entry.cells):
        if kind == "code":
            cell = nbformat.v4.new_code_cell(source)
        elif kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_raw_cell(source)
        if tags:
            cell.metadata["tags"] = list(tags)
        if entry.minor >= 5:
            cell["id"] = f"{stem}-{index}"
        else:
            del cell["id"]
        nb.cells.append(cell)
    return nb
