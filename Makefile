# Machine Learning Engineering course: every target works from a fresh clone.
#   make book   create .venv on first use, execute the notebooks, build _build/html/
#   make test   create .venv if needed, run the whole test suite
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV := .venv
ifeq ($(OS),Windows_NT)
BIN := $(VENV)/Scripts
else
BIN := $(VENV)/bin
endif
PYTHON := $(BIN)/python
STAMP := $(VENV)/.installed

# The newest supported interpreter on PATH, unless PYTHON_FOR_VENV is given.
PYTHON_FOR_VENV ?= $(shell for p in python3.12 python3.11 python3.10 python3 python; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not ((3,10) <= sys.version_info[:2] <= (3,12)))' 2>/dev/null \
	&& { echo $$p; break; }; done)

JB_FLAGS := -W -n --keep-going

.PHONY: help venv book test lab exercises classroom slides bench clean lock

help:
	@echo "make book       build the site into _build/html (open _build/html/index.html)"
	@echo "make test       run the whole test suite"
	@echo "make lab        open the course in JupyterLab"
	@echo "make exercises  regenerate exercises/ from solutions/"
	@echo "make slides     write the slide decks and PDF handouts into _build/html/slides"
	@echo "make classroom  create an nbgrader course in CLASSROOM (default: nbgrader-course/)"
	@echo "make bench      print performance figures"
	@echo "make clean      remove build outputs"
	@echo "make lock       recompile requirements.txt from requirements.in (contributors)"

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@if [ ! -x "$(PYTHON)" ]; then \
		if [ -z "$(PYTHON_FOR_VENV)" ]; then \
			echo "make: Python 3.10, 3.11 or 3.12 is required but none was found on PATH (found: $$(python3 --version 2>&1 || echo none))." >&2; exit 1; fi; \
		echo "Creating $(VENV) with $(PYTHON_FOR_VENV) ($$($(PYTHON_FOR_VENV) --version))"; \
		$(PYTHON_FOR_VENV) -m venv $(VENV) && $(PYTHON) -m pip install --quiet --upgrade pip; \
	fi
	$(PYTHON) -m pip install --quiet -r requirements.txt
	@# setuptools comes from the lock, so this step needs no network once the lock is installed.
	$(PYTHON) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

book: $(STAMP)
	@# The execution cache is keyed on code cells; this also keys it on the package and lock,
	@# and builds only when a file changed since the last successful build.
	$(PYTHON) -m mlecourse.book build . $(JB_FLAGS)
	@echo "Open _build/html/index.html"

# The unit tests run on every core (pytest-xdist) while one of the workers builds the book.
JOBS ?= auto
test: $(STAMP)
	$(BIN)/pytest -n $(JOBS)

lab: $(STAMP)
	$(BIN)/jupyter lab README.md

exercises: $(STAMP)
	$(PYTHON) -m mlecourse.exercises solutions exercises

slides: $(STAMP)
	$(PYTHON) -m mlecourse.slides --out _build/html/slides --pdf

# The course directory holds the gradebook: it is never overwritten (UPDATE=1 refreshes source/).
CLASSROOM ?= nbgrader-course
classroom: $(STAMP)
	$(PYTHON) -m mlecourse classroom init "$(CLASSROOM)" $(if $(UPDATE),--update)

bench: $(STAMP)
	$(PYTHON) -m benchmarks

clean:
	rm -rf _build .pytest_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

lock: $(STAMP)
	$(PYTHON) -m pip install --quiet "uv>=0.4"
	$(BIN)/uv pip compile requirements.in --universal --python-version 3.10 -o requirements.txt
