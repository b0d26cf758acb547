from __future__ import annotations

import math

import nbformat
import pytest

from nbqueue.runner.notebook import normalize_notebook
from nbqueue.runner.parameters import (
    INJECTED_TAG,
    InvalidParameter,
    inject_parameters,
    python_literal,
    user_cell_number,
)

from conftest import make_notebook


def tags(nb):
    return [cell.metadata.get("tags", []) for cell in nb.cells]


def test_inserted_right_after_the_parameters_cell():
    nb = normalize_notebook(
        make_notebook("import x", ("a = 1", {"tags": ["parameters"]}), "print(a)")
    )
    index = inject_parameters(nb, {"a": 2})
    assert index == 2
    assert tags(nb) == [[], ["parameters"], [INJECTED_TAG], []]
    assert nb.cells[2].source.splitlines()[1:] == ["a = 2"]
    assert nb.cells[2].source.startswith("# Parameters")


def test_inserted_first_without_parameters_cell():
    nb = normalize_notebook(make_notebook("print(a)", "b"))
    assert inject_parameters(nb, {"a": 1}) == 0
    assert tags(nb)[0] == [INJECTED_TAG]
    assert [c.id for c in nb.cells[1:]] == ["cell-0", "cell-1"]


def test_existing_injected_cell_replaced_keeping_its_id():
    nb = normalize_notebook(
        make_notebook(
            ("a = 1", {"tags": ["parameters"]}),
            ("a = 5", {"tags": [INJECTED_TAG], "id": "old-injected"}),
            "print(a)",
        )
    )
    inject_parameters(nb, {"a": 9})
    injected = [c for c in nb.cells if INJECTED_TAG in c.metadata.get("tags", [])]
    assert len(injected) == 1 and len(nb.cells) == 3
    assert injected[0].id == "old-injected"
    assert "a = 9" in injected[0].source and "a = 5" not in injected[0].source


def test_literal_types_round_trip():
    values = {
        "i": 3,
        "f": 0.01,
        "s": 'it\'s "quoted"\n',
        "t": True,
        "n": None,
        "lst": [1, "two", False, None],
        "d": {"k": [1.5, {"z": None}], "true": "x"},
    }
    nb = normalize_notebook(make_notebook("pass"))
    inject_parameters(nb, values)
    namespace: dict = {}
    exec(nb.cells[0].source, namespace)
    assert {k: namespace[k] for k in values} == values
    assert "t = True" in nb.cells[0].source and "n = None" in nb.cells[0].source


def test_non_finite_floats():
    assert python_literal(math.inf) == "float('inf')"
    assert math.isnan(eval(python_literal(math.nan)))


@pytest.mark.parametrize("name", ["1abc", "a b", "class", "", "a-b", 3])
def test_bad_names_refused_before_any_change(name):
    nb = normalize_notebook(make_notebook("pass"))
    before = nbformat.writes(nb)
    with pytest.raises(InvalidParameter, match="not a Python identifier"):
        inject_parameters(nb, {"ok": 1, name: 2})
    assert nbformat.writes(nb) == before


def test_no_parameters_no_cell():
    nb = normalize_notebook(make_notebook("pass"))
    assert inject_parameters(nb, {}) is None
    assert len(nb.cells) == 1


def test_normalize_adds_ids_and_keeps_existing():
    old = {
        "nbformat": 4,
        "nbformat_minor": 2,
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "source": "1",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            },
            {"cell_type": "markdown", "source": "# t", "metadata": {}, "id": "keep-me"},
        ],
    }
    nb = normalize_notebook(old)
    assert nb.nbformat_minor == 5
    assert nb.cells[1].id == "keep-me"
    assert nb.cells[0].id and nb.cells[0].id != "keep-me"
    nbformat.validate(nb)


def test_whole_number_for_a_float_default_stays_float():
    nb = normalize_notebook(
        make_notebook(("delay = 1.0\nsteps = 20\nname = 'x'", {"tags": ["parameters"]}))
    )
    # The dialog and JSON send 1.0 as 1: the float default says what was meant.
    inject_parameters(nb, {"delay": 2, "steps": 5, "name": 3, "flag": True})
    namespace: dict = {}
    exec(nb.cells[1].source, namespace)
    assert namespace["delay"] == 2.0 and isinstance(namespace["delay"], float)
    assert namespace["steps"] == 5 and isinstance(namespace["steps"], int)
    assert namespace["name"] == 3 and namespace["flag"] is True


def test_user_cell_number_skips_the_injected_cell():
    nb = normalize_notebook(make_notebook(("n = 1", {"tags": ["parameters"]}), "a = 1", "1 / 0"))
    inject_parameters(nb, {"n": 2})
    assert [c.metadata.get("tags", []) for c in nb.cells][1] == [INJECTED_TAG]
    # The failing cell is the job's 4th but the person's 3rd.
    assert user_cell_number(nb, 3) == 3
    assert user_cell_number(nb, 0) == 1
