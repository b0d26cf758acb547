"""Schemathesis hooks for test_api_fuzz.py: only what JSON Schema cannot say about a request.

- A submit's cells must have unique ids (nbformat says so in prose; the schema cannot).
- `input_bundle` names an uploaded bundle of the caller's; a made-up one is refused (400
  unknown_bundle) as it should be, so generated submits leave it out (server/test/files.test.ts
  covers bundles).
- A pipeline's step names are unique and its `after` lists name other steps without a cycle
  (server/test/pipelines-definition.test.ts covers the refusals): generated pipelines are made
  so (names made unique, `after` kept to earlier steps), and each step is held to the submit's
  rules above.
"""

from __future__ import annotations

import schemathesis


def _unique_cell_ids(body) -> bool:
    cells = ((body or {}).get("notebook") or {}).get("cells") or []
    ids = [c.get("id") for c in cells if isinstance(c, dict) and "id" in c]
    return len(ids) == len(set(ids))


@schemathesis.hook("filter_body").apply_to(path="/api/jobs", method="POST")
def submits_with_unique_cells(ctx, body):
    return isinstance(body, dict) and "input_bundle" not in body and _unique_cell_ids(body)


@schemathesis.hook("map_body").apply_to(path="/api/pipelines", method="POST")
def pipelines_with_a_valid_order(ctx, body):
    steps = body.get("steps") if isinstance(body, dict) else None
    if not isinstance(steps, list):
        return body
    names: list[str] = []
    for i, step in enumerate(steps):
        if not isinstance(step, dict) or not isinstance(step.get("name"), str):
            continue
        name = step["name"]
        if name in names:
            name = f"{name[:56]}-{i}"
            step["name"] = name
        if isinstance(step.get("after"), list):
            # Earlier steps only: nothing unknown, no step waiting for itself, no cycle.
            step["after"] = [n for n in dict.fromkeys(step["after"]) if n in names]
        names.append(name)
    return body


@schemathesis.hook("filter_body").apply_to(path="/api/pipelines", method="POST")
def pipelines_of_valid_submits(ctx, body):
    steps = body.get("steps") if isinstance(body, dict) else None
    return not isinstance(steps, list) or all(
        isinstance(step, dict) and "input_bundle" not in step and _unique_cell_ids(step)
        for step in steps
    )
