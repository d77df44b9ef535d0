# Everything a new clone needs: `make demo` and `make test` create .venv and install into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck pytest bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,emulator,cli,notebook]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/nemovideo demo

lint: $(STAMP)
	$(BIN)/ruff check nemovideo tests benchmarks examples
	$(BIN)/ruff format --check nemovideo tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy --strict nemovideo examples/*.py

pytest: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet --site-dir site

test: lint typecheck docs pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache site
