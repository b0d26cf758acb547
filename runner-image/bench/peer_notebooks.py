"""The three notebooks server/bench/peer.js runs through nbqueue and through jupyter-scheduler,
written with nbformat into the folder given: `quick` (a few prints), `loop` (a longer loop that
prints as it goes), `frame_plot` (a pandas DataFrame and a matplotlib plot).

Run: .venv/bin/python runner-image/bench/peer_notebooks.py DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = {
    "quick": [
        "print('hello from the job')",
        "import platform\nprint(platform.python_version())",
        "sum(range(10))",
    ],
    "loop": [
        "import math, time",
        "total = 0.0\n"
        "for step in range(40):\n"
        "    total += sum(math.sqrt(i) for i in range(20000))\n"
        "    print(f'step {step:2d}  total={total:,.1f}', flush=True)\n"
        "    time.sleep(0.05)",
        "total",
    ],
    "frame_plot": [
        "import numpy as np\nimport pandas as pd\n"
        "rng = np.random.default_rng(0)\n"
        "df = pd.DataFrame({'step': range(200), 'loss': np.exp(-np.arange(200) / 50)"
        " + rng.normal(0, 0.01, 200)})\n"
        "df.describe()",
        "import matplotlib\nmatplotlib.use('agg')\nimport matplotlib.pyplot as plt\n"
        "%matplotlib inline\n"
        "ax = df.plot(x='step', y='loss', figsize=(5, 3))\nax.set_title('loss')\nplt.show()",
        "df.tail()",
    ],
}


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        })  # fmt: skip
        nb.cells = [new_markdown_cell(f"# {name}")] + [new_code_cell(c) for c in cells]
        path = folder / f"{name}.ipynb"
        nbformat.write(nb, str(path))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for path in write(Path(sys.argv[1])):
        print(path)
