# Everything a new clone needs: `make demo` and `make test` create .venv and install into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Real Google ADK servers for the chat interop tests (tests/adk), each in its own environment so the
# SDK's stays clean: 2.x (the current release) and 1.x (its unescaped error frames).
ADK_VENV ?= .venv-adk
ADK1_VENV ?= .venv-adk1
ADK_STAMP := $(ADK_VENV)/.installed-stamp
ADK1_STAMP := $(ADK1_VENV)/.installed-stamp
# The MCP Inspector's CLI (npm), a client nobody here wrote, for the `nemovideo mcp` tests
# (tests/mcp). inspector-cli 1.x runs on Node 20; the 2.x inspector needs Node 22.
INSPECTOR_DIR ?= build/inspector
INSPECTOR_PKG ?= @modelcontextprotocol/inspector-cli@1.0.3
INSPECTOR := $(INSPECTOR_DIR)/node_modules/@modelcontextprotocol/inspector-cli/build/cli.js

.PHONY: install adk-venvs inspector demo test lint typecheck pytest bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,emulator,cli,notebook]'
	touch $(STAMP)

install: $(STAMP)

# $(call adk_venv,VENV,REQUIREMENT): the recipe that installs google-adk (REQUIREMENT) into VENV.
define adk_venv
	@echo "Installing $(2) into $(1) for the chat interop tests (tests/adk; once, see README)"
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip
	$(1)/bin/python -m pip install --quiet $(2)
	touch $(1)/.installed-stamp
endef

$(ADK_STAMP):
	$(call adk_venv,$(ADK_VENV),'google-adk==2.13.0')

$(ADK1_STAMP):
	$(call adk_venv,$(ADK1_VENV),'google-adk==1.20.0')

adk-venvs: $(ADK_STAMP) $(ADK1_STAMP)

$(INSPECTOR):
	npm install --prefix $(INSPECTOR_DIR) --no-audit --no-fund --silent '$(INSPECTOR_PKG)'

inspector: $(INSPECTOR)

demo: $(STAMP)
	$(BIN)/nemovideo demo

lint: $(STAMP)
	$(BIN)/ruff check nemovideo tests benchmarks examples
	$(BIN)/ruff format --check nemovideo tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy --strict nemovideo examples/*.py

# The suite waits on subprocesses and sockets as much as it computes: four workers (pytest-xdist)
# take it from ~10 to ~4 minutes on two cores. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 4

pytest: $(STAMP) $(ADK_STAMP) $(ADK1_STAMP) $(INSPECTOR)
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS)

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet --site-dir site

# The four environments download in parallel (they are independent and mostly wait on the
# network); the checks then run in order.
test:
	$(MAKE) -j4 $(STAMP) $(ADK_STAMP) $(ADK1_STAMP) $(INSPECTOR)
	$(MAKE) lint typecheck docs pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(ADK_VENV) $(ADK1_VENV) $(INSPECTOR_DIR) .mypy_cache .ruff_cache .pytest_cache site
