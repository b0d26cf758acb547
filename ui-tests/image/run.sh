#!/usr/bin/env bash
# The single-user image's smoke test, as `.ci/test-all.sh image` runs it: builds (cached)
# nbqueue-singleuser:test on the local Debian base, runs it with podman (or docker) on a free
# port with a token, checks in Debian's Chromium that JupyterLab loaded nbqueue's labextension
# and server extension, and removes the container. Ends with one summary line from the report.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
OUT="$ROOT/ui-tests/test-results/image"
rm -rf "$OUT" && mkdir -p "$OUT"
IMAGE=nbqueue-singleuser:test

not_run() {
  echo "image ui-tests: $1" >&2
  echo "image ui-tests: 0 passed, 1 failed (not run)"
  exit 1
}
[ -f "$ROOT/labextension/lab-dist/package.json" ] ||
  not_run "build the labextension first: npm run build -w labextension"
# shellcheck source=../../images/engine.sh
source "$ROOT/images/engine.sh"
start=$SECONDS
bash "$ROOT/images/build.sh" --base local singleuser >"$OUT/build.log" 2>&1 ||
  { tail -n 40 "$OUT/build.log" >&2; not_run "building $IMAGE failed (log: $OUT/build.log)"; }
echo "image ui-tests: $IMAGE ready in $((SECONDS - start)) s ($(tail -n 1 "$OUT/build.log"))"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
NAME="nbqueue-singleuser-smoke-$$"
export NBQUEUE_IMAGE_URL="http://127.0.0.1:$PORT" NBQUEUE_IMAGE_TOKEN="$TOKEN"
cleanup() {
  "${ENGINE[@]}" logs "$NAME" >"$OUT/jupyterlab.log" 2>&1 || true
  "${ENGINE[@]}" rm -f "$NAME" >/dev/null 2>&1 || true
}
trap cleanup EXIT
# The image's own command with the test's port and token; NBQUEUE_URL/NBQUEUE_TOKEN give the
# server extension a sidecar to name (none runs: the smoke test checks only what is loaded).
"${ENGINE[@]}" run -d --name "$NAME" --network host \
  -e NBQUEUE_URL=http://127.0.0.1:9 -e NBQUEUE_TOKEN=smoke-test-token "$IMAGE" \
  jupyter lab --ip=127.0.0.1 --port="$PORT" --no-browser --IdentityProvider.token="$TOKEN" \
  >/dev/null || not_run "could not start $IMAGE"
for _ in $(seq 1 120); do
  curl -fs -o /dev/null -H "Authorization: token $TOKEN" "$NBQUEUE_IMAGE_URL/api/status" && break
  sleep 0.5
done

cd "$HERE/.."
npx playwright test --config "$HERE/playwright.config.js" "$@"
status=$?

REPORT="$OUT/results.json"
if [ -s "$REPORT" ]; then
  node -e '
    const report = require(process.argv[1]);
    const s = report.stats || {};
    const failed = (s.unexpected || 0) + (s.flaky || 0) + (report.errors || []).length;
    console.log(`image ui-tests: ${s.expected || 0} passed, ${failed} failed` +
      (s.skipped ? `, ${s.skipped} skipped` : ""));
  ' "$REPORT"
else
  echo "image ui-tests: 0 passed, 1 failed (no report: playwright exit code $status)"
  [ "$status" -eq 0 ] && status=1
fi
exit "$status"
