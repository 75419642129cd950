# One-command setup: every target creates .venv on first use (only Python is needed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test lint reliability bench demo emulator clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

reliability: $(STAMP)
	$(BIN)/python -m pytest -q tests/reliability

lint: $(STAMP)
	$(BIN)/ruff check provider tests benchmarks examples
	$(BIN)/ruff format --check provider tests benchmarks examples
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks

emulator: $(STAMP)
	$(BIN)/miget-emulator

demo: $(STAMP)
	bash scripts/demo.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
