# One command to run the service, one to run the tests (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install install-test run test demo bench lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

install-test: install $(VENV)/.installed-test node_modules/.installed

$(VENV)/.installed-test: pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

# anvil (a local Ethereum node) and solc-js, pinned in package-lock.json, for the EVM ledger.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

run: install
	$(BIN)/panther serve

test: lint
	$(BIN)/pytest -n auto --dist loadfile

demo: install
	$(BIN)/panther demo

bench: install-test
	$(BIN)/python bench/bench_spine.py upload --records 100000
	$(BIN)/python bench/bench_spine.py match --records 100000
	$(BIN)/python bench/bench_spine.py match --records 1020000
	$(BIN)/python bench/bench_review.py --records 20000

# ruff, then mypy --strict on panther/ (configured in pyproject.toml); make test runs it first.
lint: install-test
	$(BIN)/ruff check panther tests bench conformance
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data node_modules
