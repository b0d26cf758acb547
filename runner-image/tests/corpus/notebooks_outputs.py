"""Corpus notebooks about what cells show: rich and text outputs, magics, the shell, async
code and threads, data files next to the notebook."""

from __future__ import annotations

import base64

from corpus.entry import Entry, code

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

# Files the notebooks read, written next to them.
DATA_FILES = {"data.csv": DATA_CSV.encode(), "tiny.jpg": JPEG}

ENTRIES = [
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
]
