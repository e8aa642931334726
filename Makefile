# Quietline developer entry points. `make run` and `make test` set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONPATH := $(CURDIR)

.PHONY: setup browser-deps run test test-fast lint format typecheck synth deploy bench replay clean mutation

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
	@echo "First deploy? Turn on Web Push once: $(BIN)/quietline push init (docs/web.md)"

# make replay QUEUE=outbound|retry|inbound [ARGS=--local]
replay: setup
	$(BIN)/quietline $(ARGS) replay $(QUEUE)

bench: setup
	$(BIN)/python -m bench

# Mutation testing of the security-critical code: not part of `make test` (about 15 minutes
# on 2 cores). Configured in pyproject.toml [tool.mutmut]; docs/testing.md has the figures.
# Of twilio.py only the webhook-signature functions' mutants are run.
MUTATION_SCOPE := 'functions.crypto.*' 'functions.logic.keywords.*' 'functions.logic.access.*' \
	'functions.carriers.twilio.x__values__*' 'functions.carriers.twilio.x_compute_signature__*' \
	'functions.carriers.twilio.x__url_variants__*' 'functions.carriers.twilio.x_validate_signature__*' \
	'functions.carriers.twilio.x_validate_json_signature__*'
MUTATION_SCOPE_RE := ^ *functions\.(crypto\.|logic\.(keywords|access)\.|carriers\.twilio\.x_(_values|compute_signature|_url_variants|validate_signature|validate_json_signature)__)

mutation: setup
	rm -rf mutants && mkdir mutants
	nice -n 10 $(BIN)/mutmut run --max-children 2 $(MUTATION_SCOPE) > mutants/run.log 2>&1 \
		|| (tail -n 40 mutants/run.log; exit 1)
	@$(BIN)/mutmut results --all true | grep -E '$(MUTATION_SCOPE_RE)' > mutants/in-scope.txt
	@echo "mutants in scope, by outcome:"; sed 's/.*: //' mutants/in-scope.txt | sort | uniq -c
	@echo "survivors (each needs a test or an argument in docs/testing.md):"
	@grep -v ': killed$$' mutants/in-scope.txt || true

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache .quietline
