"""Corpus notebooks about how a run goes: ending early (papermill's conventions),
parameters, interaction with the kernel."""

from __future__ import annotations

from corpus.entry import Entry, code, md

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
]
