#!/usr/bin/env bash
# The Galata end-to-end tests, as `make test` runs them: Debian's Chromium
# (Playwright cannot download its own browsers here), then one summary line
# computed from the JSON report.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# What start-servers.sh runs must be built; say so now rather than after the
# webServer timeout.
missing=""
[ -n "${NBQUEUE_SIDECAR_BIN:-}" ] || [ -f ../server/dist/cli/main.js ] ||
  missing+=$'\n  the sidecar: npm run build -w common -w server'
[ -f ../labextension/lab-dist/package.json ] ||
  missing+=$'\n  the labextension: npm run build -w labextension'
[ -x ../.venv/bin/jupyter ] ||
  missing+=$'\n  the Python environment .venv (requirements-dev.lock)'
if [ -n "$missing" ]; then
  echo "ui-tests: build these first:$missing" >&2
  echo "ui-tests: 0 passed, 0 failed (not run)"
  exit 1
fi

# Scratch folder for the servers' state and logs (see playwright.config.js),
# removed afterwards unless the caller chose it.
if [ -z "${NBQUEUE_UI_TESTS_TMP:-}" ]; then
  NBQUEUE_UI_TESTS_TMP="$(mktemp -d -t nbqueue-ui-tests-XXXXXX)"
  trap 'rm -rf "$NBQUEUE_UI_TESTS_TMP"' EXIT
fi
export NBQUEUE_UI_TESTS_TMP

rm -rf test-results
npx playwright test "$@"
status=$?

# The servers' logs go with the screenshots.
mkdir -p test-results
cp "$NBQUEUE_UI_TESTS_TMP"/*.log test-results/ 2>/dev/null || true

REPORT="test-results/results.json"
if [ -s "$REPORT" ]; then
  node -e '
    const report = require(process.argv[1]);
    const s = report.stats || {};
    const failed = (s.unexpected || 0) + (s.flaky || 0);
    for (const error of report.errors || []) {
      console.log(`ui-tests: error outside the tests: ${String(error.message).replace(/^Error: /, "")}`);
    }
    const errors = (report.errors || []).length;
    console.log(`ui-tests: ${s.expected || 0} passed, ${failed + errors} failed` +
      (s.skipped ? `, ${s.skipped} skipped` : ""));
  ' "$PWD/$REPORT"
else
  echo "ui-tests: 0 passed, 1 failed (no report: playwright did not run the tests, exit code $status)"
  [ "$status" -eq 0 ] && status=1
fi
exit "$status"
