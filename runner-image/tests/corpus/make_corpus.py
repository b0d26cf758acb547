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

import base64
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
MANIFEST = "corpus.json"

# A 4x4 JPEG and PNG, fixed here so that the files do not depend on an image library.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwc"
    "KDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIy"
    "MjIyMjIyMjIyMjIyMjIyMjIyMjL/wAARCAAEAAQDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcI"
    "CQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRol"
    "JicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ip"
    "qrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAA"
    "AAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLR"
    "ChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaX"
    "mJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEA"
    "PwDkKKKK8U/TD//Z"
)
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAFElEQVR4nGOUkzvBAANMDEgANwcAMyIBDPgnQYUAAAAA"
    "SUVORK5CYII="
)
DATA_CSV = "name,value\nalpha,1.5\nbeta,2.25\ngamma,-0.75\ndelta,10\n"


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


ALL_TYPES = {
    "count": 3,
    "ratio": 0.25,
    "whole": 1.0,
    "negative": -7,
    "tiny": 1e-300,
    "name": "héllo wörld ✓ שלום 🎉",
    "flag": True,
    "off": False,
    "nothing": None,
    "items": [1, "two", None, [3.5, False]],
    "config": {"nested": {"list": [1, 2, {"deep": True}], "none": None}, "ünï": "ß"},
    "empty_list": [],
    "empty_dict": {},
}

SHOW_PARAMETERS = """
for key in sorted(k for k in dir() if k in PARAMETER_NAMES):
    value = globals()[key]
    print(key, type(value).__name__, repr(value))
"""

ENTRIES = [
    # -- ending early: papermill's conventions -------------------------------------------------
    Entry(
        "exit_zero.ipynb",
        "sys.exit(0) stops the run early; the job succeeds",
        [code('print("before")'), code("import sys\nsys.exit(0)"), code('print("never printed")')],
        kernelspec=False,
    ),
    Entry(
        "exit_no_argument.ipynb",
        "sys.exit() stops the run early; the job succeeds",
        [code('print("before")'), code("import sys\n\nsys.exit()"), code('print("never printed")')],
        minor=2,
    ),
    Entry(
        "raise_systemexit.ipynb",
        "a bare `raise SystemExit` stops the run early; the job succeeds",
        [code('print("before")'), code("raise SystemExit"), code('print("never printed")')],
    ),
    Entry(
        "exit_one.ipynb",
        "sys.exit(1) fails the job",
        [code('print("before")'), code("import sys\nsys.exit(1)"), code('print("never printed")')],
    ),
    Entry(
        "raises_exception_tag.ipynb",
        "a cell tagged raises-exception raises and the run goes on",
        [
            code('print("start")'),
            code('raise ValueError("expected by the tag")', "raises-exception"),
            code('print("went on after the tagged error")'),
        ],
    ),
    Entry(
        "skip_execution_tag.ipynb",
        "a cell tagged skip-execution is not run",
        [
            code("ran = []"),
            code('ran.append("skipped")\nraise RuntimeError("must not run")', "skip-execution"),
            code('ran.append("last")\nprint(ran)'),
        ],
        minor=4,
    ),
    # -- parameters ----------------------------------------------------------------------------
    Entry(
        "parameters_all_types.ipynb",
        "a parameters cell; injected parameters of every JSON type",
        [
            md("# Parameters of every JSON type"),
            code(
                "count = 0\nratio = 0.5\nwhole = 0.0\nnegative = 0\ntiny = 0.0\n"
                'name = "default"\nflag = False\noff = True\nnothing = "something"\n'
                "items = []\nconfig = {}\nempty_list = [0]\nempty_dict = {0: 0}",
                "parameters",
            ),
            code(f"PARAMETER_NAMES = {sorted(ALL_TYPES)!r}"),
            code(SHOW_PARAMETERS),
            code('config["nested"]["list"][2]["deep"], items[3][0] * 2, name[::-1]'),
        ],
        parameters=ALL_TYPES,
    ),
    Entry(
        "parameters_without_cell.ipynb",
        "no parameters cell: the parameters are injected at the top",
        [
            code('print("first cell of the notebook")'),
            code("print(alpha, beta, gamma)\nprint(sorted(delta.items()))"),
        ],
        minor=2,
        parameters={"alpha": 1, "beta": "two", "gamma": [3], "delta": {"x": None, "y": 2.5}},
    ),
    Entry(
        "parameters_whole_number_for_float.ipynb",
        "a whole number given for a float default",
        [code("lr = 0.5", "parameters"), code("print(type(lr).__name__, lr)")],
        parameters={"lr": 2},
    ),
    # -- interaction ---------------------------------------------------------------------------
    Entry(
        "widgets.ipynb",
        "ipywidgets: the result keeps metadata.widgets state",
        [
            code(
                "import ipywidgets as widgets\n\n"
                'slider = widgets.IntSlider(value=3, description="n")\nslider'
            ),
            code("slider.value = 7\nbox = widgets.VBox([widgets.Label('a label'), slider])\nbox"),
            code(
                "out = widgets.Output()\ndisplay(out)\n"
                'with out:\n    print("inside an Output widget")'
            ),
        ],
    ),
    Entry(
        "input_stdin.ipynb",
        "input() fails at once with StdinNotImplementedError",
        [code('print("asking")'), code('answer = input("Your name? ")'), code("print(answer)")],
    ),
    Entry(
        "display_update.ipynb",
        "display ids updated from later cells",
        [
            code(
                "from IPython.display import display, update_display, Markdown\n\n"
                'handle = display("first value", display_id="progress")\n'
                'other = display(Markdown("*other*"), display_id=True)'
            ),
            code('handle.update("second value")\nprint("updated from the next cell")'),
            code('display("shown again", display_id="progress")'),
            code(
                'update_display("third value", display_id="progress")\n'
                'other.update("other, updated")'
            ),
        ],
    ),
    Entry(
        "clear_output_wait.ipynb",
        "clear_output(wait=True) in a loop",
        [
            code(
                "from IPython.display import clear_output\nimport time\n\nfor step in range(20):\n"
                '    clear_output(wait=True)\n    print(f"step {step}")\n    time.sleep(0.01)'
            ),
            code('print("before clear")\nclear_output()\nprint("after clear")'),
        ],
    ),
    # -- rich outputs ----------------------------------------------------------------------------
    Entry(
        "output_png.ipynb",
        "a PNG image output",
        [
            code(
                "import base64\nfrom IPython.display import Image\n\n"
                f'Image(data=base64.b64decode("{PNG_B64}"))'
            )
        ],
    ),
    Entry(
        "output_jpeg.ipynb",
        "a JPEG image output, read from a file next to the notebook",
        [code('from IPython.display import Image\n\nImage(filename="tiny.jpg")')],
    ),
    Entry(
        "output_svg.ipynb",
        "an SVG output",
        [
            code(
                'from IPython.display import SVG\n\nSVG(\'<svg xmlns="http://www.w3.org/2000/svg" '
                'width="40" height="20"><rect width="40" height="20" fill="teal"/></svg>\')'
            )
        ],
    ),
    Entry(
        "output_html.ipynb",
        "an HTML output",
        [
            code(
                "from IPython.display import HTML\n\n"
                "HTML('<table><tr><th>a</th><td>1</td></tr><tr><th>b</th><td>2</td></tr></table>')"
            )
        ],
        minor=0,
    ),
    Entry(
        "output_latex.ipynb",
        "a LaTeX output",
        [
            code(
                "from IPython.display import Latex\n\nLatex(r'$\\int_0^1 x^2\\,dx = \\frac{1}{3}$')"
            )
        ],
    ),
    Entry(
        "output_markdown.ipynb",
        "a Markdown output",
        [
            code(
                "from IPython.display import Markdown\n\n"
                'Markdown("## Title\\n\\n* one\\n* **two**")'
            )
        ],
    ),
    Entry(
        "output_json.ipynb",
        "a JSON output",
        [
            code(
                "from IPython.display import JSON\n\n"
                'JSON({"a": [1, 2, {"b": None}], "c": "ü"}, expanded=True)'
            )
        ],
        kernelspec=False,
    ),
    Entry(
        "output_mimebundle.ipynb",
        "a raw MIME bundle with metadata, and execute_result next to display_data",
        [
            code(
                "display({'text/plain': 'plain', 'text/html': '<b>bold</b>'}, raw=True, "
                "metadata={'text/html': {'isolated': True}})\n42"
            ),
            code("_ + 1"),
        ],
    ),
    Entry(
        "matplotlib_inline.ipynb",
        "matplotlib inline figures",
        [
            code("%matplotlib inline\nimport matplotlib.pyplot as plt"),
            code(
                "fig, ax = plt.subplots(figsize=(3, 2), dpi=50)\n"
                'ax.plot([0, 1, 2, 3], [0, 1, 4, 9], "o-")\nax.set_title("squares")\nplt.show()'
            ),
            code("plt.figure(figsize=(2, 2), dpi=40)\nplt.bar([1, 2], [3, 4])"),
        ],
    ),
    Entry(
        "pandas_dataframe.ipynb",
        "a pandas DataFrame (HTML and plain text)",
        [
            code("import pandas as pd\n\npd.read_csv('data.csv')"),
            code("frame = pd.read_csv('data.csv')\nframe.describe()"),
            code("print(frame.to_string())"),
        ],
        minor=4,
    ),
    # -- text outputs -----------------------------------------------------------------------------
    Entry(
        "ansi_colours.ipynb",
        "ANSI-coloured output",
        [
            code(
                'print("\\x1b[31mred\\x1b[0m \\x1b[1;32mbold green\\x1b[0m "\n'
                '      "\\x1b[44mon blue\\x1b[0m")'
            )
        ],
    ),
    Entry(
        "stdout_stderr_interleaved.ipynb",
        "stdout and stderr interleaved",
        [
            code(
                "import sys\n\nfor i in range(5):\n    print(f'out {i}')\n    sys.stdout.flush()\n"
                "    print(f'err {i}', file=sys.stderr)\n    sys.stderr.flush()"
            )
        ],
    ),
    Entry(
        "ten_thousand_lines.ipynb",
        "10,000 printed lines",
        [code('for i in range(10_000):\n    print(f"line {i}")')],
        minor=4,
    ),
    Entry(
        "ten_megabytes.ipynb",
        "one 10 MB output",
        [code('import sys\n\nsys.stdout.write(("0123456789abcdef" * 64 + "\\n") * 10240)')],
    ),
    Entry(
        "unicode_rtl.ipynb",
        "unicode, emoji and right-to-left text",
        [
            code(
                'print("Grüße, naïve café — ∑ ∞ ≠")\nprint("emoji: 🎉🐍👩\u200d💻🇫🇷")\n'
                'print("עברית: שלום עולם")\nprint("العربية: مرحبا بالعالم")'
            ),
            code('"mixed: abc שלום 123 مرحبا"'),
        ],
        kernelspec=False,
    ),
    Entry(
        "warnings_stderr.ipynb",
        "a warning on stderr",
        [
            code(
                'import warnings\n\nwarnings.warn("careful", UserWarning)\n'
                'print("after the warning")'
            )
        ],
    ),
    Entry(
        "carriage_return.ipynb",
        "progress written with carriage returns",
        [code('import sys\n\nfor i in range(5):\n    sys.stdout.write(f"\\r{i * 25}%")\nprint()')],
    ),
    # -- magics, shell, async, threads -------------------------------------------------------------
    Entry(
        "magic_time.ipynb",
        "%time",
        [code("%time total = sum(range(100_000))"), code("total")],
        minor=2,
    ),
    Entry(
        "magic_bash.ipynb",
        "%%bash",
        [code('%%bash\necho "hello from bash"\nfor i in 1 2 3; do echo "n=$i"; done')],
    ),
    Entry(
        "magic_writefile.ipynb",
        "%%writefile, then import the file",
        [
            code('%%writefile corpus_helper.py\ndef greet(who):\n    return f"hello, {who}"'),
            code('import corpus_helper\n\ncorpus_helper.greet("corpus")'),
        ],
    ),
    Entry(
        "shell_bang.ipynb",
        "! shell lines",
        [
            code("!echo hello from the shell"),
            code("listing = !ls data.csv tiny.jpg\nprint(listing)"),
        ],
    ),
    Entry(
        "top_level_await.ipynb",
        "top-level await",
        [
            code(
                "import asyncio\n\nawait asyncio.sleep(0.05)\n"
                "results = await asyncio.gather(\n"
                "    *(asyncio.sleep(0.01, result=i) for i in range(3))\n)\nresults"
            )
        ],
        kernelspec=False,
    ),
    Entry(
        "thread_after_cell.ipynb",
        "a thread that prints after its cell ended",
        [
            code(
                "import threading\nimport time\n\n\ndef late():\n    time.sleep(0.5)\n"
                '    print("late line from the thread")\n\n\n'
                'thread = threading.Thread(target=late)\nthread.start()\nprint("first cell done")'
            ),
            code('time.sleep(1.5)\nprint("second cell done")'),
            code('thread.join()\nprint("joined")'),
        ],
    ),
    Entry(
        "subprocess_terminal.ipynb",
        "a subprocess writing to the terminal (file descriptor 1)",
        [
            code(
                "import subprocess\nimport time\n\n"
                'subprocess.run(["echo", "from a subprocess"], check=True)\ntime.sleep(0.5)'
            ),
            code('print("after the subprocess")'),
        ],
    ),
    Entry(
        "data_files.ipynb",
        "reads a data file next to the notebook and writes an output file",
        [
            code(
                "import csv\n\nwith open('data.csv') as f:\n    rows = list(csv.DictReader(f))\n"
                "print(len(rows), rows[0])"
            ),
            code(
                "total = sum(float(r['value']) for r in rows)\n"
                "with open('data_files_output.txt', 'w') as f:\n    f.write(f'total={total}\\n')\n"
                "print(open('data_files_output.txt').read())"
            ),
        ],
        minor=4,
        extra={"writes": ["data_files_output.txt"]},
    ),
    # -- failures ----------------------------------------------------------------------------------
    Entry(
        "error_first_cell.ipynb",
        "an error in the first cell",
        [code("1 / 0"), code('print("never printed")'), md("the end")],
        minor=0,
    ),
    Entry(
        "error_middle_cell.ipynb",
        "an error in a middle cell",
        [
            code('print("one")'),
            code("def fail():\n    raise KeyError('missing')\n\n\nfail()"),
            code('print("never printed")'),
        ],
    ),
    Entry(
        "error_last_cell.ipynb",
        "an error in the last cell",
        [code('print("one")'), code('print("two")'), code("undefined_name")],
        minor=4,
    ),
    Entry(
        "error_chained.ipynb",
        "a chained exception of a class defined in the notebook",
        [
            code(
                "class CorpusError(Exception):\n    pass\n\n\ntry:\n    {}['x']\n"
                "except KeyError as error:\n    raise CorpusError('wrapped') from error"
            )
        ],
    ),
    Entry(
        "syntax_error.ipynb",
        "a SyntaxError",
        [code('print("fine")'), code("def broken(:\n    pass"), code('print("never")')],
    ),
    Entry(
        "deadline_endless_loop.ipynb",
        "an endless loop stopped by the deadline",
        [code('print("looping")'), code("while True:\n    pass"), code('print("never")')],
        deadline=5,
    ),
    Entry(
        "kernel_dies.ipynb",
        "the kernel dies (os._exit(1))",
        [
            code('print("about to die")'),
            # The pause lets the kernel's messages so far (execute_input, the line) leave it
            # before it goes: what is still inside a dying kernel is lost on either side.
            code(
                'import os\nimport time\n\nprint("dying", flush=True)\ntime.sleep(1)\nos._exit(1)'
            ),
            code('print("never")'),
        ],
    ),
    # -- form --------------------------------------------------------------------------------------
    Entry(
        "markdown_and_raw.ipynb",
        "markdown and raw cells between code cells",
        [
            md("# A title\n\nSome *markdown* text."),
            raw("raw cell: left as it is"),
            code("x = 2"),
            md("More markdown"),
            code("x * 21"),
        ],
        minor=0,
    ),
    Entry(
        "empty_cells.ipynb",
        "empty and whitespace-only code cells",
        [code(""), code("   \n"), code("# only a comment"), code("'last'")],
        kernelspec=False,
    ),
    Entry(
        "many_cells.ipynb",
        "fifty small cells",
        [code(f"value_{i} = {i} * 2\nvalue_{i}") for i in range(50)],
    ),
    Entry(
        "execution_history.ipynb",
        "Out, _ and the execution counter",
        [code("1 + 1"), code("_ * 10"), code("Out[1] + Out[2]"), code("print(len(In))")],
        minor=2,
    ),
]


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
    files["data.csv"] = DATA_CSV.encode()
    files["tiny.jpg"] = JPEG
    return files


def main() -> int:
    for name, content in render().items():
        path = HERE / name
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
