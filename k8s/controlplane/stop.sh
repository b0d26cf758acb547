#!/usr/bin/env bash
# Stops what start.sh DIR started (by the pids it recorded), newest first.
DIR=${1:?usage: stop.sh DIR}
for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
  f="$DIR/$name.pid"
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  rm -f "$f"
done
exit 0
