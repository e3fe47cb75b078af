# order-saga: tests, checks, build and deploy, and the local cloud. `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
ENV ?= default
VENV := .venv
TOOLS := .tools-venv
VENV_STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS)/.installed
SAM := $(TOOLS)/bin/sam
CFN_LINT := $(TOOLS)/bin/cfn-lint

export SAM_CLI_TELEMETRY := 0

.PHONY: help test integration lint validate build deploy demo drill clean

help: ## List the targets
	@echo "make TARGET [ENV=default|prod]"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# ---------------------------------------------------------------- virtualenvs
# The project's venv (tests, local cloud) and the tools venv (sam, cfn-lint) stay apart:
# aws-sam-cli pins boto3 exactly. Each reinstalls when its requirements file changes.

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV_STAMP): pyproject.toml engine/pyproject.toml | $(VENV)/bin/python
	@echo "installing order-saga and its test tools into $(VENV) (the first time takes a minute)"
	set -o pipefail; \
	$(VENV)/bin/python -m pip install --progress-bar off --disable-pip-version-check -e ./engine -e '.[test]' \
	  | { grep -E '^(Collecting|Successfully installed)' || true; }
	touch $@

$(TOOLS)/bin/python:
	$(PYTHON) -m venv $(TOOLS)

$(TOOLS_STAMP): tools-requirements.txt | $(TOOLS)/bin/python
	$(TOOLS)/bin/python -m pip install --quiet -r tools-requirements.txt
	touch $@

# ---------------------------------------------------------------- checks

# One worker per core, plus two that run while the others wait on the local cloud's scaled
# timers (TEST_WORKERS=1 for one process); tests/conftest.py says how the tests are shared out.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(len(os.sched_getaffinity(0)) + 2)' 2>/dev/null || echo auto)

test: $(VENV_STAMP) ## Run the test suite in parallel (creates .venv when missing)
	$(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --dist loadscope

# The local cloud unless AWS_SAM_STACK_NAME names a deployed stack (README: Integration tests).
integration: $(VENV_STAMP) ## Run only tests/integration (AWS_SAM_STACK_NAME: on that stack)
	$(VENV)/bin/python -m pytest -q tests/integration

lint: $(VENV_STAMP) ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

validate: $(TOOLS_STAMP) ## sam validate --lint and cfn-lint: no error, no warning
	$(SAM) validate --lint
	$(CFN_LINT) --non-zero-exit-code informational template.yaml
	$(SAM) validate --lint -t tests/fixtures/shop-lite/template.yaml

# ---------------------------------------------------------------- AWS

# sam build finds the runtime's interpreter (python3.13) on PATH: take one from PATH if it
# runs (a pyenv shim may not), else from pyenv's versions, and put its directory first.
build: $(TOOLS_STAMP) ## sam build into .aws-sam/ (needs a python3.13 interpreter)
	@py=""; \
	if command -v python3.13 >/dev/null 2>&1 && python3.13 -c '' >/dev/null 2>&1; then \
	  py="$$(python3.13 -c 'import sys; print(sys.executable)')"; \
	else \
	  root="$$(pyenv root 2>/dev/null || echo "$${PYENV_ROOT:-$$HOME/.pyenv}")"; \
	  for candidate in "$$root"/versions/3.13*/bin/python3.13; do \
	    if [ -x "$$candidate" ]; then py="$$candidate"; fi; \
	  done; \
	fi; \
	if [ -z "$$py" ]; then \
	  echo "make build needs a python3.13 interpreter (the Lambda runtime): install one, e.g. 'pyenv install 3.13' or your OS's python3.13 package" >&2; \
	  exit 1; \
	fi; \
	echo "sam build with $$py"; \
	PATH="$$(dirname "$$py"):$$PATH" $(SAM) build --config-env $(ENV)

deploy: build ## sam deploy for ENV (guided when samconfig.toml has no deploy parameters or no region is set)
	@region="$$($(TOOLS)/bin/python -c 'import boto3; print(boto3.session.Session().region_name or "")')"; \
	if [ -z "$$region" ] && ! grep -A8 '^\[$(ENV)\.deploy\.parameters\]' samconfig.toml | grep -q '^region'; then \
	  echo "no AWS region (AWS_REGION, a profile's region or samconfig.toml): sam deploy --guided"; \
	  $(SAM) deploy --guided --config-env $(ENV); \
	elif grep -q '^\[$(ENV)\.deploy\.parameters\]' samconfig.toml; then \
	  echo "$(SAM) deploy --config-env $(ENV)"; \
	  $(SAM) deploy --config-env $(ENV); \
	else \
	  echo "samconfig.toml has no [$(ENV).deploy.parameters]: sam deploy --guided"; \
	  $(SAM) deploy --guided --config-env $(ENV); \
	fi

# ---------------------------------------------------------------- the local cloud

demo: $(VENV_STAMP) ## Four sample orders through the local cloud, one per outcome
	$(VENV)/bin/order-saga demo

drill: $(VENV_STAMP) ## Run the saga failure drills on the local cloud
	$(VENV)/bin/order-saga drill

clean: ## Remove build output and caches (the virtualenvs stay)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis .order-saga/cache .localcloud/cache
	find . \( -path ./$(VENV) -o -path ./$(TOOLS) -o -path ./.git \) -prune \
	  -o -type d -name __pycache__ -exec rm -rf {} +
