# deploysafe.preflight — the two commands a person needs are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
# Built binaries (MinIO, Kubernetes control plane, kwok...) are cached outside the clone so that a
# fresh checkout on the same machine reuses them; override CACHE to move it.
CACHE ?= $(HOME)/.cache/deploysafe-preflight
export DEPLOYSAFE_CACHE := $(CACHE)
COLL_ROOT := $(CURDIR)/.collection
COLL := $(COLL_ROOT)/ansible_collections/deploysafe/preflight
export ANSIBLE_COLLECTIONS_PATH := $(COLL_ROOT)
export PYTHONPATH := $(COLL_ROOT):$(CURDIR)
export PATH := $(VENV)/bin:$(CACHE)/bin:$(PATH)
export ANSIBLE_NOCOLOR := 1
export NO_COLOR := 1
export ANSIBLE_LOCAL_TEMP := $(CURDIR)/.cache/ansible-tmp
PHASE := $(CURDIR)/scripts/phase
export PHASE_LOG := $(CURDIR)/.cache/phases.log
PYTEST_ARGS ?=

MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c

.PHONY: help system-deps venv collection-link minio test test-sanity test-unit test-integration test-molecule demo \
        testenv-up testenv-down clean clean-cache

help:
	@echo "make demo   - install what is missing, start the test environment, run playbooks/predeploy.yml"
	@echo "make test   - sanity, unit, integration and Molecule tests against real services"

# Debian packages (PostgreSQL, Prometheus, nginx, wrk, rclone...): idempotent, one quiet line when all
# are present. Both README commands depend on it, so each works as the first command on a fresh machine.
system-deps:
	@scripts/install-system-deps

# The exact pins (requirements-dev.txt, which also reads the runtime ranges of requirements.txt).
$(VENV)/.stamp: requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt -c constraints.txt
	$(VENV)/bin/pip check
	touch $@

venv: $(VENV)/.stamp

# ansible-core resolves `deploysafe.preflight` from an ansible_collections/<ns>/<name> path.
collection-link:
	@mkdir -p $(dir $(COLL)) $(CURDIR)/.cache/ansible-tmp
	@[ -L $(COLL) ] || ln -sfn $(CURDIR) $(COLL)

$(CACHE)/bin/minio:
	@mkdir -p $(CACHE)/bin
	@echo "building MinIO $(MINIO_VERSION) from its Go module (cold: ~4 min)"
	cd /tmp && CGO_ENABLED=0 GOBIN=$(CACHE)/bin GOFLAGS=-buildvcs=false go install -trimpath \
	    github.com/minio/minio@$(MINIO_VERSION) || \
	    { echo "MinIO build failed; retry with: make minio"; exit 1; }

minio: $(CACHE)/bin/minio

bins: minio

test: system-deps venv collection-link bins k6
	@rm -f $(PHASE_LOG)
	@# every phase runs even when an earlier one failed; the summary fails if any did
	-@$(PHASE) sanity $(MAKE) --no-print-directory test-sanity
	-@$(PHASE) unit $(MAKE) --no-print-directory test-unit
	-@$(PHASE) integration $(MAKE) --no-print-directory test-integration
	-@$(PHASE) molecule $(MAKE) --no-print-directory test-molecule
	@$(PHASE) --summary

test-sanity: collection-link
	$(PY) scripts/check_docs.py
	$(PY) scripts/role_docs.py --check
	vermin -q -t=3.9- --no-tips --violations --eval-annotations plugins/
	scripts/check-build
	ansible-lint --offline -q roles playbooks
	scripts/ansible-test-sanity

test-unit: collection-link
	$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

test-integration: collection-link bins
	$(PY) -m pytest -q tests/integration $(PYTEST_ARGS)

test-molecule: collection-link bins
	scripts/run-molecule

demo: system-deps venv collection-link bins
	scripts/demo

testenv-up: system-deps venv collection-link bins
	$(PY) -m deploysafe_testenv up

testenv-down:
	$(PY) -m deploysafe_testenv down

clean:
	rm -rf build .collection .pytest_cache .cache

clean-cache:
	rm -rf $(CACHE)

# Each capability adds its own targets (and extends `bins`) in mk/<name>.mk.
-include mk/*.mk
