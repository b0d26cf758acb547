"""`python -m nbqueue.environment.prepare`: restore the job's captured environment into the shared
cache before the job runs. The Kubernetes backend runs it as the job pod's init container.

The shared cache is written only here: this step runs as a user of its own with the cache
volume read-write and runs none of the job's code; the runner and the job's kernel then run as
the job's user with the cache mounted read-only, so no job can change an environment another
job imports (a `.pth` planted in a cached site-packages would run in every later job using it).

It always exits 0: whatever went wrong here (the sidecar unreachable, a package that cannot be
installed), the runner restores again, from the cache when this step built the environment,
otherwise in a folder of its own, and reports the failure to the job's owner as it always does.
"""

from __future__ import annotations

import logging
import os
import sys

from .restore import RestoreSettings, restore
from .spec import parse_environment

log = logging.getLogger("nbqueue.environment.prepare")


def prepare(payload: dict, environ=os.environ) -> str | None:
    """Restores the payload's captured environment into the cache; its key, or None when the
    job runs on the image's own environment."""
    spec = payload.get("environment") or {}
    mode = environ.get("NBQUEUE_ENVIRONMENT_MODE") or spec.get("mode") or "kernel"
    captured = spec.get("captured")
    if mode != "restore" or not captured:
        log.info("nothing to prepare: the job runs on the image's environment")
        return None
    settings = RestoreSettings.from_options(spec.get("restore"), environ)
    restored = restore(parse_environment(captured), settings, lambda level, m: log.info("%s", m))
    return restored.key


def main() -> int:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s nbqueue-prepare %(levelname)s %(message)s",
    )
    # Imported here: the runner's client is the one way to the sidecar (token, retries).
    from ..runner.sidecar_client import SidecarClient

    try:
        client = SidecarClient(
            os.environ["NBQUEUE_URL"],
            os.environ["NBQUEUE_JOB_ID"],
            os.environ["NBQUEUE_JOB_TOKEN"],
            retry_seconds=float(os.environ.get("NBQUEUE_RETRY_SECONDS") or 600),
        )
        prepare(client.get_job())
    except Exception as error:  # the runner restores again and reports it
        log.warning("the environment was not prepared: %s: %s", type(error).__name__, error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
