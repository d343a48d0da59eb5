# The two entry points of the README's quick start, and what they need.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: demo test lint bench docs fuzz

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## demo: deploy the reference to a local AWS endpoint and audit it live
demo: $(BIN)/.installed
	$(BIN)/aurora-validate demo

## test: install everything, lint, and run every test
test: $(BIN)/.installed
	$(BIN)/ruff check validator tests features bench
	$(BIN)/python -m validator.docs --check README.md
	$(BIN)/python -m pytest

## fuzz: thousands of hostile and generated inputs, bounded in time and memory; prints the counts by kind
fuzz: $(BIN)/.installed
	$(BIN)/python tests/hostile_inputs.py --generated 3000

lint: $(BIN)/.installed
	$(BIN)/ruff check validator tests features bench

## bench: static scan timings; CHECKOV=1 also times checkov (its own venv, created on first use)
bench: $(BIN)/.installed
	$(BIN)/python bench/bench_static.py
	$(BIN)/python bench/bench_checkov.py $(if $(CHECKOV),,--no-checkov)

docs: $(BIN)/.installed
	$(BIN)/python -m validator.docs --write README.md
