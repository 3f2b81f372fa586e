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
	$(BIN)/python -m pip install --quiet -e '.[dev,lab,live]'
	touch $@

$(VENV)/.installed-lab: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[lab,live]'
	touch $@

# The notebooks are executed too (nbmake): a lesson that fails to run fails the suite.
test: $(VENV)/.installed-test
	$(BIN)/ruff check simlab tests benchmarks
	$(BIN)/python -m pytest simlab tests
	@if ls notebooks/*.ipynb >/dev/null 2>&1; then $(BIN)/python -m pytest --nbmake notebooks; fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check simlab tests

lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
