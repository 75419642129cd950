# One-command setup: every target creates .venv on first use (only Python is needed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The oldest pulumi SDK the provider supports: the floor in pyproject.toml (pulumi>=...).
# `make test` also runs the layers that use the SDK's internals (the engine model in
# pulumi_miget.testing: its own suite, contract, programs, scenarios) on exactly this version, in
# its own venv. Raise both together.
PULUMI_FLOOR := 3.268.0
FLOOR_VENV   := .venv-floor
FLOOR_BIN    := $(FLOOR_VENV)/bin
FLOOR_STAMP  := $(FLOOR_VENV)/.installed-pulumi-$(PULUMI_FLOOR)
FLOOR_TESTS  := tests/testing tests/contract tests/programs tests/scenarios

# Extra arguments for `make bench`, e.g. make bench ARGS="--quick --strict P1 P3".
ARGS ?=

.PHONY: test test-floor lint reliability bench demo emulator clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The stamp's name carries the version, so changing PULUMI_FLOOR reinstalls.
$(FLOOR_STAMP): pyproject.toml
	test -x $(FLOOR_BIN)/python || $(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_BIN)/python -m pip install --quiet --upgrade pip
	$(FLOOR_BIN)/python -m pip install --quiet -e '.[dev]' 'pulumi==$(PULUMI_FLOOR)'
	$(FLOOR_BIN)/python -c "import importlib.metadata as m, sys; v = m.version('pulumi'); \
		sys.exit(0 if v == '$(PULUMI_FLOOR)' else f'$(FLOOR_VENV) has pulumi {v}, not $(PULUMI_FLOOR)')"
	rm -f $(FLOOR_VENV)/.installed-pulumi-*
	touch $(FLOOR_STAMP)

test: $(STAMP) $(FLOOR_STAMP)
	$(BIN)/python -m pytest -q tests
	@echo "== $(FLOOR_TESTS) on the floor SDK, pulumi $(PULUMI_FLOOR) ($(FLOOR_VENV))"
	$(FLOOR_BIN)/python -m pytest -q -p no:cacheprovider $(FLOOR_TESTS)

test-floor: $(FLOOR_STAMP)
	$(FLOOR_BIN)/python -m pytest -q -p no:cacheprovider $(FLOOR_TESTS)

reliability: $(STAMP)
	$(BIN)/python -m pytest -q tests/reliability

lint: $(STAMP)
	$(BIN)/ruff check provider tests benchmarks examples
	$(BIN)/ruff format --check provider tests benchmarks examples
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

emulator: $(STAMP)
	$(BIN)/miget-emulator

demo: $(STAMP)
	bash scripts/demo.sh

clean:
	rm -rf $(VENV) $(FLOOR_VENV) .pytest_cache .mypy_cache .ruff_cache
