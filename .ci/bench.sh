#!/usr/bin/env bash
# `make bench`: every benchmark, each printing ratios or figures measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
echo "== streaming latency and overhead vs papermill (server/bench/stream.js)"
node server/bench/stream.js
echo "== metrics: log_metric latency, 100k-point ingest, call overhead (server/bench/metrics.js)"
node server/bench/metrics.js
