# The two commands: `make demo` runs the example DAG against the local Flyte admin,
# `make test` runs the test suite. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv dist clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/python demo/run_demo.py

test: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# ruff (rules in pyproject.toml) over the whole tree, mypy over the package.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The wheel users install into their Airflow image (this version is not on PyPI yet).
dist: $(STAMP)
	rm -rf dist
	$(VENV)/bin/pip wheel --quiet --no-deps --wheel-dir dist .

clean:
	rm -rf $(VENV) .airflow_home .pytest_cache dist build
