"""Corpus notebooks that fail (errors, a deadline, a dying kernel) and ones of an unusual
form (markdown and raw cells, empty cells, many cells, the execution history)."""

from __future__ import annotations

from corpus.entry import Entry, code, md, raw

ENTRIES = [
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
