# onestop: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt pyproject.toml | sha1sum | cut -c1-12)
STAGE ?= dev

.PHONY: run test portal portal-deps lint format infra package deploy bench simulate clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

## run: the local pilot stack (embedded AWS, API on http://127.0.0.1:8000, workers,
## the portal on http://127.0.0.1:8001)
run: $(STAMP)
	$(PY) -m tools.stack

## test: the whole suite: the portal's unit tests (vitest), then pytest (unit, functional on
## moto, end-to-end over HTTP, the portal in headless chromium)
test: $(STAMP) portal
	cd portal && npm test
	$(PY) -m pytest

## portal-deps: npm ci in portal/ when node_modules is missing or from another lock file
portal-deps: $(STAMP)
	$(PY) -m tools.portal deps

## portal: build portal/dist (make run does it too)
portal: portal-deps
	$(PY) -m tools.portal build

## lint: ruff and mypy (chalicelib), generated files up to date, templates clean
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m tools.infra --check
	$(VENV)/bin/cfn-lint infra/*

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## infra: render infra/*.json, policies/ and .chalice/config.json from the code's names
infra: $(STAMP)
	$(PY) -m tools.infra

## package: chalice package (CloudFormation) for STAGE, linted with cfn-lint
package: $(STAMP)
	rm -rf build/package
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-cn-north-1} ONESTOP_STAGE=$(STAGE) $(VENV)/bin/chalice package --stage $(STAGE) \
	  --pkg-format cloudformation build/package
	$(VENV)/bin/cfn-lint build/package/sam.json

## deploy: infra stacks, outputs into .chalice/config.json, chalice deploy (STAGE=dev|prod)
deploy: $(STAMP)
	ONESTOP_STAGE=$(STAGE) $(PY) -m tools.release --stage $(STAGE)

## bench: every benchmark under bench/
bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

## simulate: a pilot-sized year replayed on moto through the real handlers (about 3 minutes);
## prints on-time/early rates and warnings per department, plots .local/simulate/*.png
simulate: $(STAMP)
	$(PY) -m tools.simulate $(ARGS)

clean:
	rm -rf build .local portal/dist .pytest_cache .mypy_cache .ruff_cache
