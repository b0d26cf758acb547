"""Papermill-style parameters: a cell tagged `injected-parameters` after the `parameters` cell."""

from __future__ import annotations

import ast
import keyword
import math

import nbformat

from .notebook import new_cell_id

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
HEADER = "# Parameters (injected by nbqueue)"


class InvalidParameter(ValueError):
    """A parameter name or value that cannot become a Python assignment."""


def python_literal(value: object) -> str:
    """The Python source for a JSON value: true -> True, null -> None, lists, dicts, ..."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "float('nan')"
        if math.isinf(value):
            return "float('inf')" if value > 0 else "float('-inf')"
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(python_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{python_literal(str(k))}: {python_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise InvalidParameter(f"Parameter value {value!r} is not a JSON value.")


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise InvalidParameter(
            f"Parameter name {name!r} is not a Python identifier; use letters, digits and _."
        )
    return name


def parameters_source(parameters: dict) -> str:
    lines = [HEADER]
    lines += [f"{check_name(name)} = {python_literal(value)}" for name, value in parameters.items()]
    return "\n".join(lines) + "\n"


def _has_tag(cell: dict, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def user_cell_number(nb: nbformat.NotebookNode, cell_index: int) -> int:
    """The 1-based position of a cell as the person sees their notebook: the injected
    parameters cell, which they never saw, is not counted."""
    before = nb.cells[:cell_index]
    return 1 + sum(1 for cell in before if not _has_tag(cell, INJECTED_TAG))


def _float_defaults(source: str) -> set[str]:
    """Names the parameters cell assigns a float literal to (`lr = 1.0`)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, float)
        ):
            names.add(node.targets[0].id)
    return names


def _keep_float_types(nb: nbformat.NotebookNode, parameters: dict) -> dict:
    """JSON cannot tell 1.0 from 1: a whole number given for a float default stays a float."""
    tagged = [c for c in nb.cells if _has_tag(c, PARAMETERS_TAG)]
    if not tagged:
        return parameters
    source = tagged[0].source if isinstance(tagged[0].source, str) else "".join(tagged[0].source)
    floats = _float_defaults(source)
    return {
        name: float(value)
        if name in floats and isinstance(value, int) and not isinstance(value, bool)
        else value
        for name, value in parameters.items()
    }


def inject_parameters(nb: nbformat.NotebookNode, parameters: dict) -> int | None:
    """Insert (or replace) the `injected-parameters` cell; returns its index.

    The cell goes right after the first cell tagged `parameters`; without one it takes the place
    of a previously injected cell, else goes first. A replaced injected cell keeps its id.
    With no parameters the notebook is left as it is and None is returned.
    """
    if not parameters:
        return None
    source = parameters_source(
        _keep_float_types(nb, parameters)
    )  # validates every name before touching nb

    old = [i for i, cell in enumerate(nb.cells) if _has_tag(cell, INJECTED_TAG)]
    old_id = nb.cells[old[0]].get("id") if old else None
    for i in reversed(old):
        del nb.cells[i]

    taken = {cell.get("id") for cell in nb.cells}
    cell = nbformat.v4.new_code_cell(source=source)
    cell["id"] = old_id if old_id and old_id not in taken else new_cell_id(taken)
    cell.metadata["tags"] = [INJECTED_TAG]

    tagged = [i for i, c in enumerate(nb.cells) if _has_tag(c, PARAMETERS_TAG)]
    if tagged:
        index = tagged[0] + 1
    elif old:
        index = old[0]
    else:
        index = 0
    nb.cells.insert(index, cell)
    return index
