"""Schemathesis hooks for test_api_fuzz.py: only what JSON Schema cannot say about a request.

- A submit's cells must have unique ids (nbformat says so in prose; the schema cannot).
- `input_bundle` names an uploaded bundle of the caller's; a made-up one is refused (400
  unknown_bundle) as it should be, so generated submits leave it out (server/test/files.test.ts
  covers bundles).
- A pipeline's step names are unique and its `after` lists name other steps without a cycle
  (server/test/pipelines-definition.test.ts covers the refusals): generated pipelines are made
  so (names made unique, `after` kept to earlier steps), and each step is held to the submit's
  rules above; so are a schedule's job or pipeline, and its cron and time zone are real ones.
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


def _valid_order(pipeline):
    steps = pipeline.get("steps") if isinstance(pipeline, dict) else None
    if not isinstance(steps, list):
        return pipeline
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
    return pipeline


def _valid_steps(pipeline) -> bool:
    steps = pipeline.get("steps") if isinstance(pipeline, dict) else None
    return not isinstance(steps, list) or all(
        isinstance(step, dict) and "input_bundle" not in step and _unique_cell_ids(step)
        for step in steps
    )


@schemathesis.hook("map_body").apply_to(path="/api/pipelines", method="POST")
def pipelines_with_a_valid_order(ctx, body):
    return _valid_order(body)


@schemathesis.hook("filter_body").apply_to(path="/api/pipelines", method="POST")
def pipelines_of_valid_submits(ctx, body):
    return _valid_steps(body)


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
    if not isinstance(body, dict):
        return body
    body = _real_schedule(body)
    if "pipeline" in body:
        body["pipeline"] = _valid_order(body["pipeline"])
    return body


@schemathesis.hook("map_query").apply_to(path="/api/schedules/preview", method="GET")
def real_cron_in_previews(ctx, query):
    return _real_schedule(query) if isinstance(query, dict) else query


# A schedule's job is a submit and its pipeline a pipeline (as above).
@schemathesis.hook("filter_body").apply_to(path="/api/schedules", method="POST")
def schedules_of_valid_bodies(ctx, body):
    if not isinstance(body, dict):
        return False
    job = body.get("job")
    if isinstance(job, dict):
        return "input_bundle" not in job and _unique_cell_ids(job)
    return _valid_steps(body.get("pipeline"))
