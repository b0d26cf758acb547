#!/usr/bin/env bash
# Playwright's webServer for the hub browser tests: a real JupyterHub (configurable-http-proxy
# from npm) running deploy/jupyterhub/jupyterhub_config.py through
# server/test/hub/jupyterhub_test_config.py, whose `nbqueue` service is the sidecar (built
# CLI, hub mode). alice's home holds a copy of examples/. On SIGTERM from Playwright the hub
# is stopped, and it stops its proxy, service and single-user servers.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
export PATH="$REPO/.venv/bin:$PATH"

: "${NBQUEUE_HUB_TMP:?set by playwright.config.js}"
export NBQUEUE_HUB_TMP
export NBQUEUE_HUB_PORT="${NBQUEUE_HUB_PORT:-18000}"
export NBQUEUE_LAB_PORT="${NBQUEUE_LAB_PORT:-18100}"
: "${NBQUEUE_HUB_PASSWORD:?set by playwright.config.js}"
export NBQUEUE_HUB_PASSWORD
export NBQUEUE_SERVICE_URL="http://127.0.0.1:$((NBQUEUE_HUB_PORT + 3))"
export NBQUEUE_COMMAND="node $REPO/server/bin/nbqueue.js"
export NBQUEUE_STATE_FILE="$NBQUEUE_HUB_TMP/server.json"
# The runner and the server extension from the source tree.
export PYTHONPATH="$REPO/runner-image${PYTHONPATH:+:$PYTHONPATH}"
unset NBQUEUE_URL NBQUEUE_TOKEN

# The example sidecar configuration with this run's store and the venv's Python.
export NBQUEUE_SIDECAR_CONFIG="$NBQUEUE_HUB_TMP/nbqueue.yaml"
python - "$REPO/deploy/jupyterhub/nbqueue.yaml" "$NBQUEUE_SIDECAR_CONFIG" <<'PY'
import sys, yaml
from pathlib import Path
config = yaml.safe_load(Path(sys.argv[1]).read_text())
tmp = Path(sys.argv[2]).parent
config["store"] = {"path": str(tmp / "nbqueue.db")}
# This test hub runs every user's server as one OS account (the test's), so its jobs do too.
config["backend"] = {
    "type": "local",
    "local": {"python": sys.executable, "log_dir": str(tmp / "logs"), "single_os_user": True},
}
Path(sys.argv[2]).write_text(yaml.safe_dump(config))
PY

mkdir -p "$NBQUEUE_HUB_TMP/home/alice"
cp "$REPO/examples/demo.ipynb" "$NBQUEUE_HUB_TMP/home/alice/"

echo "nbqueue hub tests: JupyterHub on port $NBQUEUE_HUB_PORT, log in $NBQUEUE_HUB_TMP/jupyterhub.log"
cd "$NBQUEUE_HUB_TMP"
# The hub in a session of its own: Playwright's SIGTERM to this script's process group must not
# reach the proxy before the hub has cleaned up through it (the hub then hangs in its shutdown).
setsid jupyterhub -f "$REPO/server/test/hub/jupyterhub_test_config.py" \
  >"$NBQUEUE_HUB_TMP/jupyterhub.log" 2>&1 &
hub_pid=$!
stop() {
  trap - TERM INT
  kill -TERM "$hub_pid" 2>/dev/null || true
  for _ in $(seq 1 75); do
    kill -0 "$hub_pid" 2>/dev/null || return 0
    sleep 0.2
  done
  echo "nbqueue hub tests: the hub did not stop within 15 s; killing its session" >&2
  kill -KILL -- "-$hub_pid" 2>/dev/null || true
}
trap 'stop; exit 143' TERM
trap 'stop; exit 130' INT
wait "$hub_pid"
