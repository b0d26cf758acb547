"""Writes the chaos tests' notebooks with nbformat: `notebooks.py SPEC.json DIR`.

SPEC is a JSON list of {"name": ..., "cells": [source, ...]}; each becomes DIR/<name>.ipynb.
"""

import json
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

spec, folder = json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2])
for item in spec:
    nb = new_notebook(cells=[new_code_cell(source) for source in item["cells"]])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.validate(nb)
    nbformat.write(nb, folder / f"{item['name']}.ipynb")
