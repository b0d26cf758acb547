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


# Schedules. A cron's shape is in the document (five fields); the rest of its syntax (values
# within each field, ranges in order, steps within the field, a date that exists) is checked in
# code, 400 invalid_cron, with its own tests (server/test/schedules-*.test.ts), as is the time
# zone (any IANA name the runtime knows). Generated ones are mapped onto real ones.
CRONS = ["0 3 * * *", "*/15 * * * *", "30 8 * * 1-5", "0 9 * * mon", "0 6 1 * *", "0 3 1 1 *"]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]


def _real_schedule(values: dict) -> dict:
    values = dict(values)
    if "cron" in values:
        values["cron"] = CRONS[len(str(values["cron"])) % len(CRONS)]
    if "timezone" in values:
        values["timezone"] = ZONES[len(str(values["timezone"])) % len(ZONES)]
    return values


@schemathesis.hook("map_body").apply_to(path="/api/schedules", method="POST")
def real_cron_in_schedules(ctx, body):
    return _real_schedule(body) if isinstance(body, dict) else body


@schemathesis.hook("map_query").apply_to(path="/api/schedules/preview", method="GET")
def real_cron_in_previews(ctx, query):
    return _real_schedule(query) if isinstance(query, dict) else query


# A schedule's job is a submit (as above). The document requires `job` and forbids `pipeline`
# until the pipelines room is wired; the explorative phases may still send one.
@schemathesis.hook("filter_body").apply_to(path="/api/schedules", method="POST")
def schedules_of_jobs(ctx, body):
    job = body.get("job") if isinstance(body, dict) else None
    return (
        isinstance(job, dict)
        and "pipeline" not in body
        and "input_bundle" not in job
        and _unique_cell_ids(job)
    )
