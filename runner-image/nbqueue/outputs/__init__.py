"""`nbqueue.output(name, value)`: a value a notebook hands to the next steps of its pipeline.

Inside a job (the runner gives its kernel `NBQUEUE_JOB_ID`), the value travels to the runner as
an `OUTPUT_MIME` display message, exactly as `nbqueue.log_metric`'s points do; the runner turns
it into an `output_value` event and keeps it out of the notebook. The sidecar keeps the last
value per name; a pipeline passes them to the steps that wait for this one as parameters
(docs/pipelines.md). Outside a job the call prints a note and does nothing.
"""

from __future__ import annotations

import json
import keyword
import os
import re

from ..metrics.publisher import publisher_for_this_process

# Kernel -> runner only: {"version": 1, "name": str, "value": <JSON>}.
OUTPUT_MIME = "application/vnd.nbqueue.output-value+json"

# A parameter name: the value becomes a variable of the next step's parameters cell.
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# One value must fit an event comfortably (events are at most ~1 MB); files go through the
# working folder instead.
MAX_VALUE_BYTES = 64 * 1024


class OutputError(ValueError):
    """A name or value `nbqueue.output` cannot pass on."""


def encode_value(name: object, value: object) -> str:
    """The value as JSON text, or OutputError saying what is wrong with the name or value."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or keyword.iskeyword(name):
        raise OutputError(
            f"nbqueue.output: the name {name!r} is not usable; it becomes a parameter of the "
            "next steps, so it must be a Python identifier of at most 64 characters "
            "(letters, digits, _; not starting with a digit; not a keyword such as 'class')."
        )
    try:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise OutputError(
            f"nbqueue.output: the value of {name!r} is not JSON ({error}); pass numbers, "
            "strings, booleans, None, lists and dicts with string keys, and put files in the "
            "working folder."
        ) from None
    size = len(text.encode("utf-8"))
    if size > MAX_VALUE_BYTES:
        raise OutputError(
            f"nbqueue.output: the value of {name!r} is {size} bytes as JSON, more than the "
            f"{MAX_VALUE_BYTES} allowed; write large data to a file in the working folder and "
            "pass its path."
        )
    return text


def output(name: str, value: object) -> None:
    """Hand `value` (JSON) to the pipeline steps that wait for this one, as parameter `name`.
    The last value given for a name wins. A bad name or value raises OutputError."""
    text = encode_value(name, value)
    publisher, _ = publisher_for_this_process()
    if not os.environ.get("NBQUEUE_JOB_ID") or publisher is None:
        print(f"nbqueue.output: not running as an nbqueue job; {name} = {text} is not kept.")
        return
    publisher.display(
        {OUTPUT_MIME: {"version": 1, "name": name, "value": json.loads(text)}},
        None,
        publisher.parent(),
        False,
    )


__all__ = ["MAX_VALUE_BYTES", "OUTPUT_MIME", "OutputError", "encode_value", "output"]
