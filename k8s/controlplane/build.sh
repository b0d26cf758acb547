#!/usr/bin/env bash
# Builds the test control plane from Go modules (no Docker, no release downloads): etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler and kwok. Binaries are cached by
# version under ${NBQUEUE_K8S_CACHE:-~/.cache/nbqueue/k8s}/<version>/, so only the first run
# pays for the build (about 6 minutes on 2 cores). Prints the cache folder on its last line.
#
#   k8s/controlplane/build.sh           build what is missing, print the bin folder
#   k8s/controlplane/build.sh --regen   regenerate kube/go.mod's staging replaces from
#                                       k8s.io/kubernetes' own go.mod (after a version bump)
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD

KUBE_VERSION=v1.34.4 # kube/go.mod pins the same version
STAGING_VERSION=v0.34.4
ETCD_VERSION=v3.5.21 # etcd/go.mod pins the same version
KWOK_VERSION=v0.7.0
VERSION="kube-$KUBE_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
CACHE="${NBQUEUE_K8S_CACHE:-$HOME/.cache/nbqueue/k8s}/$VERSION"

GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
if ! [ -x "$GO" ]; then
  echo "build.sh: Go is needed to build the test control plane (etcd, kube-apiserver, kwok)." >&2
  echo "Install Go 1.24 or newer (https://go.dev/dl/) or set GO=/path/to/go." >&2
  exit 1
fi
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export CGO_ENABLED=0

if [ "${1:-}" = --regen ]; then
  mod=$("$GO" mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    sed -n '1,/^replace (/p' kube/go.mod | sed '$d'
    echo 'replace ('
    grep -E '=> \./staging' "$mod" | awk -v v="$STAGING_VERSION" '{print "\t" $1 " => " $1 " " v}'
    echo ')'
  } >kube/go.mod.new
  mv kube/go.mod.new kube/go.mod
  (cd kube && "$GO" mod tidy)
  (cd etcd && "$GO" mod tidy)
  exit 0
fi

mkdir -p "$CACHE"
build() { # name command...
  local name=$1
  shift
  if [ -x "$CACHE/$name" ]; then return; fi
  local start=$SECONDS
  echo "build.sh: building $name (cached afterwards in $CACHE)" >&2
  "$@" >&2
  echo "build.sh: $name built in $((SECONDS - start)) s" >&2
}

ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
ldflags+=" -X k8s.io/component-base/version.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2)"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
  build "$cmd" bash -c "cd '$HERE/kube' && nice -n 10 '$GO' build -trimpath -ldflags '$ldflags' -o '$CACHE/$cmd.tmp' k8s.io/kubernetes/cmd/$cmd && mv '$CACHE/$cmd.tmp' '$CACHE/$cmd'"
done
build etcd bash -c "cd '$HERE/etcd' && nice -n 10 '$GO' build -trimpath -ldflags '-s -w' -o '$CACHE/etcd.tmp' . && mv '$CACHE/etcd.tmp' '$CACHE/etcd'"
build kwok bash -c "GOBIN='$CACHE/gobin' nice -n 10 '$GO' install -trimpath -ldflags '-s -w' sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION && mv '$CACHE/gobin/kwok' '$CACHE/kwok' && rmdir '$CACHE/gobin'"

echo "$CACHE"
