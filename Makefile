# Quietline developer entry points. `make run` and `make test` set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONPATH := $(CURDIR)

.PHONY: setup browser-deps run test test-fast lint format typecheck synth deploy bench replay clean

setup: $(STAMP) node_modules/.package-lock.json

# Reinstall whenever the pinned requirements change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

run: setup
	$(BIN)/python -m local.runtime

# The browser tests drive Debian's Chromium (never a browser downloaded by Playwright).
browser-deps:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

test: setup lint browser-deps
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: setup
	$(BIN)/python -m pytest -m "unit"

# Python (ruff, mypy), then the browser code in web/app: its JSDoc types (tsc) and eslint.
# --no-install: only the copies setup pinned, never what npm would fetch for a bare "tsc".
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	npx --no-install tsc --noEmit -p tsconfig.json
	npx --no-install eslint web/app

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

synth: setup
	npx cdk synth --quiet

deploy: setup
	npx cdk deploy --require-approval broadening
	$(BIN)/quietline tenants sync
	$(BIN)/quietline web publish --if-hosted

# make replay QUEUE=outbound|retry|inbound [ARGS=--local]
replay: setup
	$(BIN)/quietline $(ARGS) replay $(QUEUE)

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache .quietline
