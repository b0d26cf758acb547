#!/usr/bin/env bash
# Playwright's webServer for the nbqueue Galata tests: a real sidecar (local
# backend, nbqueue.yaml: the built-in profiles and two GPU shapes) and a real
# JupyterLab that finds it through NBQUEUE_STATE_FILE, on a fresh copy of
# examples/. Both stop together when Playwright stops this script (SIGTERM
# handled here; a SIGKILL of the process group takes both down as well).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$HERE/.."
cd "$HERE"

# The repository's virtual environment first: jupyter, ipykernel, nbclient.
export PATH="$REPO/.venv/bin:$PATH"

TMP="${NBQUEUE_UI_TESTS_TMP:-$(mktemp -d -t nbqueue-ui-tests-XXXXXX)}"
mkdir -p "$TMP"
# The test sidecar only: a real one named by the environment stays untouched.
export NBQUEUE_STATE_FILE="$TMP/server.json"
unset NBQUEUE_URL NBQUEUE_TOKEN
PORT="${NBQUEUE_UI_TESTS_PORT:-8888}"
export NBQUEUE_UI_TESTS_PORT="$PORT"

# The runner, the server extension and the metrics API (for the kernels, the
# jobs' kernels too) come from the source tree, ahead of any installed copy of
# the nbqueue package, which may be an older build.
export PYTHONPATH="$REPO/runner-image${PYTHONPATH:+:$PYTHONPATH}"

# A fresh Jupyter root holding a copy of the examples.
export NBQUEUE_UI_TESTS_ROOT="$TMP/root"
rm -rf "$NBQUEUE_UI_TESTS_ROOT"
cp -r "$REPO/examples" "$NBQUEUE_UI_TESTS_ROOT"

sidecar_pid=""
lab_pid=""
cleanup() {
  trap - EXIT INT TERM
  for pid in $lab_pid $sidecar_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $lab_pid $sidecar_pid; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

SIDECAR_PORT="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
echo "nbqueue ui-tests: sidecar on port $SIDECAR_PORT, state in $TMP"
# NBQUEUE_SIDECAR_BIN: another build of the CLI, e.g. one under development.
node "${NBQUEUE_SIDECAR_BIN:-$REPO/server/bin/nbqueue.js}" serve \
  --config "$HERE/nbqueue.yaml" \
  --port "$SIDECAR_PORT" \
  --state-file "$NBQUEUE_STATE_FILE" \
  --db "$TMP/nbqueue.db" >"$TMP/sidecar.log" 2>&1 &
sidecar_pid=$!

# JupyterLab is only useful once the sidecar answers.
for _ in $(seq 1 150); do
  if ! kill -0 "$sidecar_pid" 2>/dev/null; then
    echo "nbqueue ui-tests: the sidecar exited before it was ready:" >&2
    tail -n 20 "$TMP/sidecar.log" >&2
    exit 1
  fi
  if curl -sf "http://127.0.0.1:$SIDECAR_PORT/api/health" >/dev/null && [ -s "$NBQUEUE_STATE_FILE" ]; then
    break
  fi
  sleep 0.2
done
curl -sf "http://127.0.0.1:$SIDECAR_PORT/api/health" >/dev/null || {
  echo "nbqueue ui-tests: the sidecar did not answer /api/health within 30 s:" >&2
  tail -n 20 "$TMP/sidecar.log" >&2
  exit 1
}

echo "nbqueue ui-tests: JupyterLab on port $PORT, logs in $TMP/jupyter.log"
jupyter lab --config "$HERE/jupyter_server_test_config.py" >"$TMP/jupyter.log" 2>&1 &
lab_pid=$!

# Whichever stops first stops the other: a dead sidecar must fail the tests.
set +e
wait -n "$sidecar_pid" "$lab_pid"
status=$?
if ! kill -0 "$sidecar_pid" 2>/dev/null; then
  echo "nbqueue ui-tests: the sidecar stopped (exit $status):" >&2
  tail -n 20 "$TMP/sidecar.log" >&2
elif ! kill -0 "$lab_pid" 2>/dev/null; then
  echo "nbqueue ui-tests: JupyterLab stopped (exit $status):" >&2
  tail -n 20 "$TMP/jupyter.log" >&2
fi
exit "$status"
