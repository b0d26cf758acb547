#!/usr/bin/env bash
# Kills one component of the control plane start.sh DIR started and starts it again with the
# same command line (tests use it to take the API server away under a running sidecar).
#   k8s/controlplane/restart.sh DIR NAME [--down-only | --up-only]
set -euo pipefail
DIR=${1:?usage: restart.sh DIR NAME}
NAME=${2:?usage: restart.sh DIR NAME}
if [ "${3:-}" != --up-only ]; then
  pid=$(cat "$DIR/$NAME.pid")
  kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
[ "${3:-}" = --down-only ] && exit 0
eval "exec $(cat "$DIR/$NAME.cmd")" </dev/null >>"$DIR/logs/$NAME.log" 2>&1 &
echo $! >"$DIR/$NAME.pid"
