# The two entry points of the README's quick start, and what they need.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
# make test runs the suite in one worker process per CPU; a file's tests share a worker (and its servers).
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: demo test lint bench docs fuzz browser

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## demo: deploy the reference to a local AWS endpoint and audit it live
demo: $(BIN)/.installed
	$(BIN)/aurora-validate demo

## browser: Chromium for the HTML report tests (Debian package; skipped without apt-get or root)
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
			|| echo "chromium could not be installed: the browser tests will be skipped"; \
	else echo "chromium not installed and apt-get unavailable: the browser tests will be skipped"; fi

## test: install everything, lint, and run every test
test: $(BIN)/.installed browser
	$(BIN)/ruff check validator tests features bench
	$(BIN)/mypy validator
	$(BIN)/python -m validator.docs --check README.md
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile

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
