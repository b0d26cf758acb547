#!/usr/bin/env bash
# Builds nbqueue's images from the repository root, each only when what it is built from changed:
#   runner       runner-image/Dockerfile   what a Kubernetes job pod runs (python -m nbqueue.runner)
#   sidecar      images/sidecar/Dockerfile the sidecar (Node 20, the built server)
#   singleuser   images/singleuser/Dockerfile JupyterLab with nbqueue's extensions, for JupyterHub
#
#   images/build.sh [--base upstream|local] [IMAGE...]     (default: all three)
#
# --base upstream (default): FROM the production bases (the CUDA runtime image, Debian's slim
#   image, the Jupyter Docker Stacks image), tagged nbqueue-<image>:0.1.0, for a registry:
#   `docker tag nbqueue-runner:0.1.0 REGISTRY/nbqueue-runner:0.1.0 && docker push ...`.
# --base local: FROM localhost/nbqueue-base:bookworm, a Debian bookworm made here from Debian's
#   packages with mmdebstrap (no image registry needed), tagged nbqueue-<image>:test. The tests
#   use these; they differ from production only in the FROM line (the same build arguments).
#
# Each image carries the label io.nbqueue.source-hash: a hash of its Dockerfile, the files it
# copies, its build arguments and its base's id. An image whose label matches is not rebuilt,
# so a second `make test` reuses the images. NBQUEUE_ENGINE=podman forces podman.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=images/engine.sh
source images/engine.sh

BASE=upstream
if [ "${1:-}" = --base ]; then
  BASE=$2
  shift 2
fi
case $BASE in upstream | local) ;; *) echo "build.sh: --base upstream or local" >&2 && exit 2 ;; esac
[ $# -eq 0 ] && set -- runner sidecar singleuser

LOCAL_BASE=localhost/nbqueue-base:bookworm
if [ "$BASE" = local ]; then TAG=test; else TAG=0.1.0; fi

# What each image is built from: the Dockerfile and every path it COPYs.
sources() {
  case $1 in
    runner)
      echo runner-image/Dockerfile runner-image/requirements.txt pyproject.toml install.json \
        jupyter-config runner-image/hatch_build.py runner-image/nbqueue
      ;;
    sidecar)
      echo images/sidecar/Dockerfile images/sidecar/fetch_node.py package.json package-lock.json tsconfig.json \
        common/package.json common/tsconfig.json common/src server/package.json server/tsconfig.json server/src server/bin server/schema \
        labextension/package.json ui-tests/package.json
      ;;
    singleuser)
      echo images/singleuser/Dockerfile images/singleuser/requirements.txt pyproject.toml \
        install.json jupyter-config runner-image/hatch_build.py runner-image/nbqueue \
        labextension/lab-dist
      ;;
  esac
}
dockerfile() {
  case $1 in
    runner) echo runner-image/Dockerfile ;;
    *) echo "images/$1/Dockerfile" ;;
  esac
}
# The build argument that names the base image, and its value for --base local.
base_args() {
  [ "$BASE" = local ] || return 0
  case $1 in
    runner) echo "--build-arg CUDA_IMAGE=$LOCAL_BASE" ;;
    *) echo "--build-arg BASE_IMAGE=$LOCAL_BASE" ;;
  esac
}

label() { # image -> its io.nbqueue.source-hash label, empty when absent
  "${ENGINE[@]}" image inspect --format '{{index .Config.Labels "io.nbqueue.source-hash"}}' "$1" 2>/dev/null || true
}

# A Debian bookworm root file system from Debian's own packages, imported as an image.
local_base() {
  if "${ENGINE[@]}" image exists "$LOCAL_BASE" 2>/dev/null ||
    "${ENGINE[@]}" image inspect "$LOCAL_BASE" >/dev/null 2>&1; then
    return
  fi
  local tmp start=$SECONDS
  tmp=$(mktemp -d)
  echo "build.sh: making $LOCAL_BASE with mmdebstrap" >&2
  mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$tmp/base.tar" >&2
  "${ENGINE[@]}" import "$tmp/base.tar" "$LOCAL_BASE" >/dev/null
  rm -rf "$tmp"
  echo "build.sh: $LOCAL_BASE made in $((SECONDS - start)) s" >&2
}

build() { # image
  local name=$1 tag="nbqueue-$1:$TAG" file hash base_id start=$SECONDS
  file=$(dockerfile "$name")
  # shellcheck disable=SC2046
  for path in $(sources "$name"); do
    if ! [ -e "$path" ]; then
      echo "build.sh: $name needs $path (labextension/lab-dist: run \`make build\` first)" >&2
      return 1
    fi
  done
  base_id=""
  [ "$BASE" = local ] && base_id=$("${ENGINE[@]}" image inspect --format '{{.Id}}' "$LOCAL_BASE")
  # shellcheck disable=SC2046
  hash=$({
    find $(sources "$name") -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 |
      sort -z | xargs -0 sha256sum
    echo "$(base_args "$name") $base_id"
  } | sha256sum | cut -c1-16)
  if [ "$(label "$tag")" = "$hash" ]; then
    echo "build.sh: $tag is up to date ($hash)" >&2
    return
  fi
  echo "build.sh: building $tag from $file ($hash)" >&2
  # shellcheck disable=SC2046
  "${ENGINE[@]}" build "${BUILD_FLAGS[@]}" $(base_args "$name") \
    --label "io.nbqueue.source-hash=$hash" -f "$file" -t "$tag" . >&2
  echo "build.sh: $tag built in $((SECONDS - start)) s" >&2
}

[ "$BASE" = local ] && local_base
for image in "$@"; do
  case $image in
    runner | sidecar | singleuser) build "$image" ;;
    base) ;;
    *) echo "build.sh: unknown image $image (runner, sidecar, singleuser)" >&2 && exit 2 ;;
  esac
done
