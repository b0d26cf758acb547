"""Schemathesis hooks for test_api_fuzz.py: only what JSON Schema cannot say about a request.

- A submit's cells must have unique ids (nbformat says so in prose; the schema cannot).
- `input_bundle` names an uploaded bundle of the caller's; a made-up one is refused (400
  unknown_bundle) as it should be, so generated submits leave it out (server/test/files.test.ts
  covers bundles).
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
