#!/usr/bin/env bash
# The browser tests under JupyterHub, as `.ci/test-all.sh hub` runs them: Debian's Chromium,
# then one summary line from the JSON report.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

missing=""
[ -f ../../server/dist/cli/main.js ] || missing+=$'\n  the sidecar: npm run build -w common -w server'
[ -f ../../labextension/lab-dist/package.json ] ||
  missing+=$'\n  the labextension: npm run build -w labextension'
[ -x ../../.venv/bin/jupyterhub ] || missing+=$'\n  JupyterHub in .venv (requirements-dev.lock)'
[ -x ../../node_modules/.bin/configurable-http-proxy ] ||
  missing+=$'\n  configurable-http-proxy (npm ci)'
if [ -n "$missing" ]; then
  echo "hub ui-tests: build these first:$missing" >&2
  echo "hub ui-tests: 0 passed, 0 failed (not run)"
  exit 1
fi

if [ -z "${NBQUEUE_HUB_TMP:-}" ]; then
  NBQUEUE_HUB_TMP="$(mktemp -d -t nbqueue-hub-ui-XXXXXX)"
  trap 'rm -rf "$NBQUEUE_HUB_TMP"' EXIT
fi
export NBQUEUE_HUB_TMP

rm -rf ../test-results/hub
npx playwright test --config "$HERE/playwright.config.js" "$@"
status=$?

mkdir -p ../test-results/hub
cp "$NBQUEUE_HUB_TMP"/*.log ../test-results/hub/ 2>/dev/null || true

REPORT="../test-results/hub/results.json"
if [ -s "$REPORT" ]; then
  node -e '
    const report = require(process.argv[1]);
    const s = report.stats || {};
    for (const error of report.errors || [])
      console.log(`hub ui-tests: error outside the tests: ${String(error.message).replace(/^Error: /, "")}`);
    const failed = (s.unexpected || 0) + (s.flaky || 0) + (report.errors || []).length;
    console.log(`hub ui-tests: ${s.expected || 0} passed, ${failed} failed`);
  ' "$(cd "$(dirname "$REPORT")" && pwd)/results.json"
else
  echo "hub ui-tests: 0 passed, 1 failed (no report: playwright did not run the tests, exit code $status)"
  [ "$status" -eq 0 ] && status=1
fi
exit "$status"
