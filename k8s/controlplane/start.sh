#!/usr/bin/env bash
# Starts the test control plane in DIR: etcd, kube-apiserver (TLS from a throwaway CA, a static
# admin token, service-account signing keys, RBAC), kube-controller-manager, kube-scheduler and
# kwok with the fake node pools of nodes.yaml. Builds the binaries first if they are not cached.
#
#   k8s/controlplane/start.sh DIR    then: KUBECONFIG=DIR/kubeconfig; stop with stop.sh DIR
#
# Ports: NBQUEUE_K8S_PORT_BASE (default 36400): etcd +0, etcd peer +1, kube-apiserver +2,
# kwok +5. DIR/env holds K8S_SERVER, K8S_TOKEN, K8S_CA and KUBECONFIG for scripts and tests.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(realpath -m "${1:?usage: start.sh DIR}")
BASE=${NBQUEUE_K8S_PORT_BASE:-36400}
ETCD=$BASE PEER=$((BASE + 1)) API=$((BASE + 2)) KWOK=$((BASE + 5))
BIN=$("$HERE/build.sh" | tail -n 1)
for port in $ETCD $PEER $API $KWOK; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "start.sh: port $port is in use (another control plane?); stop it or set NBQUEUE_K8S_PORT_BASE" >&2
    exit 1
  fi
done
# Whatever fails below, nothing started is left running.
trap '"$HERE/stop.sh" "$DIR"' ERR
t0=$(date +%s%N)

mkdir -p "$DIR/pki" "$DIR/logs"
cd "$DIR/pki"
if [ ! -f ca.crt ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
    -subj /CN=nbqueue-test-ca 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr \
    -subj /CN=kube-apiserver 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc,IP:10.96.0.1\n' >san.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out apiserver.crt -days 3650 -extfile san.ext 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  openssl rand -hex 24 >admin.token
  echo "$(cat admin.token),admin,admin,system:masters" >tokens.csv
fi
TOKEN=$(cat admin.token)
cat >"$DIR/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
  - name: test
    cluster: { server: 'https://127.0.0.1:$API', certificate-authority: '$DIR/pki/ca.crt' }
users:
  - name: admin
    user: { token: '$TOKEN' }
contexts:
  - name: test
    context: { cluster: test, user: admin }
current-context: test
KC
cat >"$DIR/env" <<ENV
K8S_SERVER=https://127.0.0.1:$API
K8S_TOKEN=$TOKEN
K8S_CA=$DIR/pki/ca.crt
KUBECONFIG=$DIR/kubeconfig
K8S_BIN=$BIN
ENV

start() { # name args...
  local name=$1
  shift
  "$BIN/$name" "$@" </dev/null >"$DIR/logs/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
  printf '%q ' "$BIN/$name" "$@" >"$DIR/$name.cmd" # for restart.sh
}
wait_for() { # what seconds command...
  local what=$1 seconds=$2
  shift 2
  for _ in $(seq 1 $((seconds * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "start.sh: $what did not come up within $seconds s; its log:" >&2
  tail -n 30 "$DIR/logs/$what.log" >&2 || true
  return 1
}
api() { curl -sf --cacert "$DIR/pki/ca.crt" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$API$1"; }

start etcd --name default --data-dir "$DIR/etcd" --unsafe-no-fsync \
  --listen-client-urls "http://127.0.0.1:$ETCD" --advertise-client-urls "http://127.0.0.1:$ETCD" \
  --listen-peer-urls "http://127.0.0.1:$PEER" --initial-advertise-peer-urls "http://127.0.0.1:$PEER" \
  --initial-cluster "default=http://127.0.0.1:$PEER"
wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD/health"

start kube-apiserver --etcd-servers "http://127.0.0.1:$ETCD" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API" \
  --tls-cert-file "$DIR/pki/apiserver.crt" --tls-private-key-file "$DIR/pki/apiserver.key" \
  --client-ca-file "$DIR/pki/ca.crt" --token-auth-file "$DIR/pki/tokens.csv" \
  --authorization-mode RBAC \
  --service-account-issuer https://kubernetes.default.svc \
  --service-account-key-file "$DIR/pki/sa.pub" --service-account-signing-key-file "$DIR/pki/sa.key" \
  --service-cluster-ip-range 10.96.0.0/16 --profiling=false
wait_for kube-apiserver 120 api /readyz

start kube-controller-manager --kubeconfig "$DIR/kubeconfig" --leader-elect=false \
  --secure-port 0 --service-account-private-key-file "$DIR/pki/sa.key" \
  --root-ca-file "$DIR/pki/ca.crt" --concurrent-job-syncs 10 \
  --kube-api-qps 200 --kube-api-burst 400
# The client limits of the controller manager (default 20/s, burst 30: its job controller's pod
# creations and Job status updates) and the scheduler (50/s, burst 100: its bindings) raised, as
# clusters that start bursts of Jobs do (docs/benchmarks.md, Kubernetes backend).
start kube-scheduler --kubeconfig "$DIR/kubeconfig" --leader-elect=false --secure-port 0 \
  --kube-api-qps 200 --kube-api-burst 400
start kwok --kubeconfig "$DIR/kubeconfig" --manage-all-nodes=false \
  --manage-nodes-with-label-selector type=kwok --config "$HERE/kwok-stages.yaml" \
  --server-address "127.0.0.1:$KWOK" --cidr 10.244.0.0/16 --node-ip 10.0.0.1

node "$HERE/apply.js" "$DIR/env" "$HERE/nodes.yaml" >/dev/null
ready_nodes() { node "$HERE/apply.js" "$DIR/env" --ready-nodes 6; }
wait_for kwok 60 ready_nodes
# The default service account of a namespace comes from the controller manager.
wait_for kube-controller-manager 60 api /api/v1/namespaces/default/serviceaccounts/default

echo "control plane up in $((($(date +%s%N) - t0) / 1000000)) ms; KUBECONFIG=$DIR/kubeconfig" >&2
