# simlab: two commands on a fresh machine.
#   make lab           - set up .venv and open the lessons in JupyterLab
#   make test          - set up .venv and run the whole test suite
#   make test-browser  - the lessons in headless Chromium (needs Debian's chromium package)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: lab test test-browser lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,lab,browser]'
	touch $@

$(VENV)/.installed-lab: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	touch $@

# The notebooks are executed too (nbmake): a lesson that fails to run fails the suite.
test: $(VENV)/.installed-test
	$(BIN)/ruff check simlab tests benchmarks
	$(BIN)/python -m pytest simlab tests --ignore=tests/browser
	@if ls notebooks/*.ipynb >/dev/null 2>&1; then $(BIN)/python -m pytest --nbmake notebooks; fi

# JupyterLab and Voila driven by Debian's Chromium (never a downloaded browser), and the Binder build plan.
test-browser: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests/browser -p no:cacheprovider

lint: $(VENV)/.installed-test
	$(BIN)/ruff check simlab tests

lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab notebooks/00_start_here.ipynb

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# The issue "Speed and scale": every figure beside its target (about 7 minutes; README "Benchmarks").
.PHONY: bench
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run_all.py
