# simlab: two commands on a fresh machine.
#   make lab   - set up .venv and open the lessons in JupyterLab
#   make test  - set up .venv and run the whole test suite

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: lab test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.installed-lab: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	touch $@

test: $(VENV)/.installed-test
	$(BIN)/ruff check simlab tests
	$(BIN)/python -m pytest simlab tests

lint: $(VENV)/.installed-test
	$(BIN)/ruff check simlab tests

lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
