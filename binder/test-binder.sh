#!/usr/bin/env bash
# Tests binder/ without Docker, the way repo2docker uses it: a copy of the repository (its
# tracked and new files, no build outputs), a fresh virtualenv with binder/requirements.txt,
# postBuild run from the repository root with a fresh HOME, then `binder/start jupyter lab`.
# A browser smoke test (ui-tests/binder) then submits examples/demo.ipynb from the toolbar
# and waits for the job to succeed. Last line: `binder: N passed, N failed`.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$(cd "$HERE/.." && pwd)"
PORT="${NBQUEUE_BINDER_PORT:-8893}"
TOKEN="binder-test-$RANDOM$RANDOM"
TMP="${NBQUEUE_BINDER_TMP:-$(mktemp -d -t nbqueue-binder-XXXXXX)}"
PYTHON="${PYTHON:-python3}"
# Downloads are reused from the caller's caches; nothing else of the caller's HOME is used.
export npm_config_cache="${npm_config_cache:-$HOME/.npm}"
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/pip}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

lab_pid=""
finish() { # status message
  if [ -n "$lab_pid" ]; then
    kill -TERM -- "-$lab_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$lab_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$lab_pid" 2>/dev/null || true
  fi
  mkdir -p "$SRC/ui-tests/test-results/binder"
  cp "$TMP"/*.log "$TMP"/home/.local/share/nbqueue/sidecar.log "$SRC/ui-tests/test-results/binder/" 2>/dev/null || true
  [ -n "${2:-}" ] && echo "binder: $2"
  [ -z "${NBQUEUE_BINDER_TMP:-}" ] && rm -rf "$TMP"
  exit "$1"
}
fail() { finish 1 "$1 (logs in ui-tests/test-results/binder)"$'\n'"binder: 0 passed, 1 failed"; }

step() { # name log command...: runs a build step, its output in $TMP/<log>
  local name=$1 log=$2
  shift 2
  echo "binder: $name"
  "$@" >"$TMP/$log" 2>&1 || { tail -n 30 "$TMP/$log"; fail "$name failed"; }
}

mkdir -p "$TMP/repo" "$TMP/home"
(cd "$SRC" && git ls-files -co --exclude-standard -z |
  tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$TMP/repo"
[ -f "$TMP/repo/binder/postBuild" ] || fail "could not copy the repository"

step "fresh virtualenv" venv.log "$PYTHON" -m venv "$TMP/venv"
export PATH="$TMP/venv/bin:$PATH" HOME="$TMP/home" REPO_DIR="$TMP/repo"
unset NBQUEUE_URL NBQUEUE_TOKEN NBQUEUE_STATE_FILE XDG_DATA_HOME PYTHONPATH VIRTUAL_ENV
cd "$TMP/repo"
step "pip install -r binder/requirements.txt" pip.log python -m pip install -r binder/requirements.txt
step "binder/postBuild" postBuild.log bash binder/postBuild

echo "binder: binder/start jupyter lab on port $PORT"
setsid binder/start jupyter lab --no-browser --port "$PORT" --ServerApp.ip=127.0.0.1 \
  --IdentityProvider.token="$TOKEN" --ServerApp.root_dir="$TMP/repo" \
  $([ "$(id -u)" = 0 ] && echo --allow-root) >"$TMP/jupyter.log" 2>&1 &
lab_pid=$!
for _ in $(seq 1 300); do
  kill -0 "$lab_pid" 2>/dev/null || { tail -n 30 "$TMP/jupyter.log"; fail "JupyterLab exited"; }
  curl -sf "http://127.0.0.1:$PORT/api/status?token=$TOKEN" >/dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$PORT/nbqueue/connection?token=$TOKEN" >"$TMP/connection.json" ||
  fail "the nbqueue server extension did not hand out the sidecar: $(cat "$TMP/connection.json")"
echo "binder: connection $(cat "$TMP/connection.json" | sed 's/"token": *"[^"]*"/"token": "…"/')"

# The browser test runs from the source tree's node_modules (Playwright), against the copy.
cd "$SRC/ui-tests"
NBQUEUE_BINDER_URL="http://127.0.0.1:$PORT" NBQUEUE_BINDER_TOKEN="$TOKEN" \
  npx playwright test --config "$SRC/ui-tests/binder/playwright.config.js"
status=$?
line=$(node -e '
  try {
    const s = require(process.argv[1]).stats || {};
    console.log(`${s.expected || 0} passed, ${(s.unexpected || 0) + (s.flaky || 0)} failed`);
  } catch { console.log("0 passed, 1 failed"); }
' "$SRC/ui-tests/test-results/binder/results.json")
[ "$status" -ne 0 ] && [[ $line == "0 passed, 0 failed" ]] && line="0 passed, 1 failed"
finish "$status" "$line"
