# One Makefile for developers and CI. `make run` and `make test` each install what they need.
PYTHON ?= python3
PIP := $(PYTHON) -m pip

.PHONY: install install-test run serve test test-python test-editors lint typecheck bench conformance clean

install:
	$(PIP) install -q -e ".[test,dev]"
	$(PIP) install -q --no-deps -r requirements-nodeps.txt

install-test: install
	bash editor-extensions/install-test-deps.sh
	bash tests/node/install.sh
	bash tests/node_acp/install.sh
	bash scripts/install-system-test-deps.sh

run: install
	bash scripts/run.sh

serve: install
	victor-server lsp

test: install-test
	$(PYTHON) -m pytest -q
	bash editor-extensions/run-tests.sh

test-python:
	$(PYTHON) -m pytest -q

test-editors:
	bash editor-extensions/run-tests.sh

lint:
	$(PYTHON) -m ruff check victor_server tests bench
	$(PYTHON) -m mypy victor_server

typecheck:
	$(PYTHON) -m mypy victor_server

bench: install
	$(PYTHON) bench/run_all.py

conformance:
	bash scripts/mcp_conformance.sh

clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
