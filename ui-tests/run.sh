#!/usr/bin/env bash
# The Galata end-to-end tests, as `make test` runs them: Debian's Chromium
# (Playwright cannot download its own browsers here), then one summary line
# computed from the JSON report.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

rm -rf test-results
npx playwright test "$@"
status=$?

REPORT="test-results/results.json"
if [ -s "$REPORT" ]; then
  node -e '
    const report = require(process.argv[1]);
    const s = report.stats || {};
    const failed = (s.unexpected || 0) + (s.flaky || 0);
    console.log(`ui-tests: ${s.expected || 0} passed, ${failed} failed` +
      (s.skipped ? `, ${s.skipped} skipped` : ""));
  ' "$PWD/$REPORT"
else
  echo "ui-tests: 0 passed, 0 failed (no report: playwright did not run the tests, exit code $status)"
  [ "$status" -eq 0 ] && status=1
fi
exit "$status"
