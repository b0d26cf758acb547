# nbqueue: `make demo` installs everything and runs it; `make test` installs everything and
# runs every suite. Nothing is assumed beyond Node 20, Python 3.11 and apt (for Chromium).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
# better-sqlite3 compiles from source when no prebuilt binary can be fetched; node-gyp then
# needs Node's headers, which Node's own packages install under /usr/include/node.
ifneq ($(wildcard /usr/include/node/node.h),)
export npm_config_nodedir ?= /usr
endif

DEMO_DIR := .nbqueue
SIDECAR_PORT ?= 8765
LAB_PORT ?= 8888

.PHONY: help install build demo test lint bench chromium clean image

help:
	@echo "make demo   install, build, start the sidecar and JupyterLab with examples/demo.ipynb"
	@echo "make test   install, build and run every suite (lint, jest, pytest, integration, Galata)"
	@echo "make bench  run the benchmarks (figures go in docs/benchmarks.md)"
	@echo "make image  build the runner, sidecar and single-user images (IMAGE_BASE=local: no registry)"

# ---- install ------------------------------------------------------------------------------

node_modules/.installed: package.json package-lock.json common/package.json server/package.json labextension/package.json ui-tests/package.json
	npm ci --no-audit --no-fund
	@touch $@

$(VENV)/.installed: requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r requirements-dev.lock
	@touch $@

install: node_modules/.installed $(VENV)/.installed

# Debian's Chromium for the Galata tests (Playwright cannot download its own browser here).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@chromium --version

# ---- build --------------------------------------------------------------------------------

build: install
	npm run build --workspace common
	npm run build --workspace server
	npm run build --workspace labextension
	$(VPY) -m pip install --quiet --no-deps --no-build-isolation --force-reinstall .
	@# The nbqueue CLI on the virtualenv's PATH too (it is also `npx nbqueue`).
	@printf '#!/bin/sh\nexec node "%s/server/bin/nbqueue.js" "$$@"\n' "$(CURDIR)" > $(VENV)/bin/nbqueue
	@chmod +x $(VENV)/bin/nbqueue

# ---- images -------------------------------------------------------------------------------

# The runner, sidecar and single-user images (docker, else podman): images/build.sh. Production
# bases by default; IMAGE_BASE=local builds FROM a Debian made here with mmdebstrap, as the tests
# do. Each is rebuilt only when its Dockerfile or what it copies changed.
IMAGE_BASE ?= upstream
image: build
	bash images/build.sh --base $(IMAGE_BASE)

# ---- run ----------------------------------------------------------------------------------

demo: build
	@mkdir -p $(DEMO_DIR)
	@echo "Starting the nbqueue sidecar (local backend) on port $(SIDECAR_PORT)"
	@NBQUEUE_STATE_FILE=$(CURDIR)/$(DEMO_DIR)/server.json node server/bin/nbqueue.js serve \
	    --port $(SIDECAR_PORT) --db $(CURDIR)/$(DEMO_DIR)/nbqueue.db \
	    --state-file $(CURDIR)/$(DEMO_DIR)/server.json > $(DEMO_DIR)/sidecar.log 2>&1 & \
	  echo $$! > $(DEMO_DIR)/sidecar.pid; \
	  trap 'kill $$(cat $(DEMO_DIR)/sidecar.pid) 2>/dev/null' EXIT INT TERM; \
	  for i in $$(seq 1 100); do [ -s $(DEMO_DIR)/server.json ] && break; sleep 0.1; done; \
	  [ -s $(DEMO_DIR)/server.json ] || { cat $(DEMO_DIR)/sidecar.log; exit 1; }; \
	  echo "Sidecar up (log: $(DEMO_DIR)/sidecar.log). Starting JupyterLab on examples/ ..."; \
	  echo "Open the URL below, then press 'Submit to GPU queue' on demo.ipynb."; \
	  NBQUEUE_STATE_FILE=$(CURDIR)/$(DEMO_DIR)/server.json jupyter lab --no-browser \
	    --ServerApp.port=$(LAB_PORT) --ServerApp.ip=$${LAB_IP:-127.0.0.1} \
	    --ServerApp.root_dir=$(CURDIR)/examples --LabApp.default_url=/lab/tree/demo.ipynb \
	    $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# ---- test ---------------------------------------------------------------------------------

lint: install
	bash .ci/test-all.sh lint

test: build chromium
	bash .ci/test-all.sh

bench: build
	bash .ci/bench.sh

clean:
	rm -rf node_modules $(VENV) server/dist labextension/lib labextension/lab-dist ui-tests/test-results $(DEMO_DIR)
