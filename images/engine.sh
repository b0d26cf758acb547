# Sourced by images/build.sh and the tests' scripts: picks the container engine and sets
#   ENGINE        docker or podman (the command, with podman's settings for this host)
#   BUILD_FLAGS   what `build` needs here (podman: the host network and CA bundle)
#   HOST_TLS      `run` flags that give a container the host's CA bundle (this host reaches
#                 PyPI through a TLS-inspecting egress proxy: uv restoring an environment in a
#                 test container must trust it; a cluster's nodes need nothing of the kind)
# Docker when its daemon answers; else podman, installed with apt-get (root, or sudo) when
# missing, as the Makefile installs Chromium. podman here: runc and cgroupfs (hybrid cgroups v1
# inside a container, no systemd) and no default ulimits (images/podman/containers.conf).
# shellcheck shell=bash
IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${NBQUEUE_ENGINE:-}" != podman ] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  ENGINE=(docker)
  BUILD_FLAGS=()
else
  if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1 || ! command -v mmdebstrap >/dev/null 2>&1; then
    echo "Installing podman, runc and mmdebstrap (Debian packages) to build and run the images" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      podman runc mmdebstrap uidmap fuse-overlayfs >&2
  fi
  export CONTAINERS_CONF="${CONTAINERS_CONF:-$IMAGES_DIR/podman/containers.conf}"
  ENGINE=(podman --runtime runc --cgroup-manager=cgroupfs)
  # Registries answer through the host's network and CA bundle (the base has no proxy settings).
  # docker format: the OCI format has no HEALTHCHECK.
  BUILD_FLAGS=(--network host --format docker)
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    BUILD_FLAGS+=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
  fi
fi
HOST_TLS=()
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  HOST_TLS=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro
    -e SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt)
fi
