#!/usr/bin/env bash
# `make bench`: every benchmark, each printing ratios or figures measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
echo "== streaming latency and overhead vs papermill (server/bench/stream.js)"
node server/bench/stream.js
echo "== time to the first output vs papermill, cold and with warm kernels (server/bench/first-output.js)"
node server/bench/first-output.js
echo "== metrics: log_metric latency, 100k-point ingest, call overhead (server/bench/metrics.js)"
node server/bench/metrics.js
echo "== metric storage: a 2-hour job's 7.2M points, bytes per point and RSS at three sizes (server/bench/storage.js)"
node server/bench/storage.js
echo "== the queue at scale (server/bench/queue.js)"
node server/bench/queue.js
echo "== ETA backtest: 1,000 generated jobs replayed through the estimator (server/bench/eta-backtest.js)"
node server/bench/eta-backtest.js
echo "== replaying 1,000,000 events to a fast and a slow socket.io client (server/bench/replay.js)"
node server/bench/replay.js
echo "== environment restore: cold and warm, uv vs pip (runner-image/bench/restore.py)"
python runner-image/bench/restore.py
echo "== the notebook corpus: nbqueue vs papermill, wall time (runner-image/bench/corpus.py)"
python runner-image/bench/corpus.py
echo "== against jupyter-scheduler: submit -> first output, submit -> finished (server/bench/peer.js)"
node server/bench/peer.js
echo "== Kubernetes backend on the test control plane (server/bench/k8s.bench.ts)"
bash k8s/controlplane/build.sh >/dev/null
(cd server && npx jest -c test/k8s/jest.config.js --roots '<rootDir>/bench' --testMatch '**/k8s.bench.ts')
echo "== metrics chart rendering in Chromium (ui-tests/bench/render.spec.ts)"
(
  cd ui-tests
  NBQUEUE_UI_TESTS_TMP="$(mktemp -d -t nbqueue-bench-XXXXXX)"
  export NBQUEUE_UI_TESTS_TMP PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  trap 'rm -rf "$NBQUEUE_UI_TESTS_TMP"' EXIT
  npx playwright test -c bench/playwright.config.js
)
