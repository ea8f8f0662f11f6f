# ECIF — the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

setup: $(STAMP)

## make demo: set up, then run the main job on the embedded default
demo: $(STAMP)
	$(VENV)/bin/ecif demo

## make test: set up, lint, type-check, then run the whole test suite
test: $(STAMP) lint typecheck
	$(VENV)/bin/pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy matching models ecif review_app

bench: $(STAMP)
	$(PY) bench/standardise.py
	$(PY) bench/generate.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache data/out
