# simlab: two commands on a fresh machine.
#   make lab           - set up .venv and open the lessons in JupyterLab
#   make test          - set up .venv and run the whole test suite
#   make test-browser  - the lessons in headless Chromium (needs Debian's chromium package)
#   make lab-ja        - the Japanese edition (notebooks/ja/) in JupyterLab's Japanese interface

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: lab lab-ja test test-browser lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Both install with binder/constraints.txt: the lessons run here, in CI and on Binder with the same versions.
$(VENV)/.installed-test: pyproject.toml binder/constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c binder/constraints.txt -e '.[dev,lab,browser]'
	touch $@

$(VENV)/.installed-lab: pyproject.toml binder/constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c binder/constraints.txt -e '.[lab]'
	touch $@

# The notebooks are executed too (nbmake), the Japanese edition's with them: a lesson that fails to run fails the
# suite. Both runs use every core (pytest-xdist).
test: $(VENV)/.installed-test
	$(BIN)/ruff check simlab tests benchmarks
	$(BIN)/python -m pytest -n auto simlab tests --ignore=tests/browser
	@if ls notebooks/*.ipynb >/dev/null 2>&1; then $(BIN)/python -m pytest -n auto --nbmake notebooks; fi

# JupyterLab and Voila driven by Debian's Chromium (never a downloaded browser), and the Binder build plan.
test-browser: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests/browser -p no:cacheprovider

lint: $(VENV)/.installed-test
	$(BIN)/ruff check simlab tests

# JupyterLab refuses to start as root without --allow-root (containers often run as root): given only then.
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

lab: $(VENV)/.installed-lab
	@echo "Starting JupyterLab on the lessons; open the http://127.0.0.1:8888/lab?token=... address it prints below."
	$(BIN)/jupyter lab notebooks/00_start_here.ipynb $(ROOT_FLAG)

# Message catalogs (simlab/locale/*/LC_MESSAGES/simlab.po): add the message ids the code now uses, untranslated,
# then fill in their texts; tests/test_i18n.py fails while any is missing (scripts/catalogs.py).
.PHONY: catalogs
catalogs: $(VENV)/.installed-test
	$(BIN)/python scripts/catalogs.py

# The Japanese edition: notebooks/ja/ (kernels started there speak Japanese: notebooks/ja/.simlab-language) in
# JupyterLab's Japanese interface (jupyterlab-language-pack-ja-JP, chosen in a settings directory of its own so
# that `make lab` stays as it was).
LAB_JA_SETTINGS := $(VENV)/lab-ja-settings
lab-ja: $(VENV)/.installed-lab
	mkdir -p $(LAB_JA_SETTINGS)/@jupyterlab/translation-extension
	echo '{"locale": "ja_JP"}' > $(LAB_JA_SETTINGS)/@jupyterlab/translation-extension/plugin.jupyterlab-settings
	@echo "JupyterLab を日本語版の教材で起動します。下に表示される http://127.0.0.1:8888/lab?token=... を開いてください。"
	JUPYTERLAB_SETTINGS_DIR=$(CURDIR)/$(LAB_JA_SETTINGS) SIMLAB_LANG=ja $(BIN)/jupyter lab notebooks/ja/00_start_here.ipynb $(ROOT_FLAG)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# The issue "Speed and scale": every figure beside its target (about 7 minutes; README "Benchmarks").
.PHONY: bench
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run_all.py

# The lessons as a static site that needs no kernel and no internet: site/_build/index.html, each lesson run
# with its panels' first views embedded (about a minute; npm fetches the widget manager; scripts/build_site.py).
# site: the student edition (no worked solutions, no docs/instructor/), the one to give to students.
# site-instructor: the lessons as they are, with their Reveal buttons, and the instructor's guide.
.PHONY: site site-instructor
site: $(VENV)/.installed-test
	$(BIN)/python scripts/build_site.py --edition student --out site/_build

site-instructor: $(VENV)/.installed-test
	$(BIN)/python scripts/build_site.py --edition instructor --out site/_build_instructor

# Student and instructor editions of the lessons, from the notebooks git tracks: build/editions/{student,instructor}/
# (the student edition has no solution cells; the build fails if it cannot remove them; scripts/editions.py).
.PHONY: editions course course-check course-release
editions: $(VENV)/.installed-test
	$(BIN)/python scripts/editions.py build --out build/editions

# The nbgrader course: course/source/ regenerated from the lessons (commit it), checked, and released with
# nbgrader generate_assignment into course/release/ (nbgrader's alembic must be on PATH, hence the PATH=).
course: $(VENV)/.installed-test
	$(BIN)/python scripts/editions.py course

course-check: $(VENV)/.installed-test
	$(BIN)/python scripts/editions.py course --check

course-release: course
	cd course && PATH="$(CURDIR)/$(BIN):$$PATH" $(CURDIR)/$(BIN)/nbgrader generate_assignment '*' --force
