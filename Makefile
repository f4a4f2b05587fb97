# The two commands: `make demo` runs the example DAG against the local Flyte admin,
# `make test` runs the test suite. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test test-airflow test-airflows lint venv dist clean

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

# The suites that touch Airflow's API, on another Airflow 3 release, in a venv of its own built with
# that release's pins (constraints/): make test-airflow AIRFLOW=3.0.6. `make test` stays on the newest.
# wtforms: what draws the connection form on 3.0/3.1 (images get it with the FAB provider).
AIRFLOW ?= 3.0.6
AIRFLOW_VENV := .venv-airflow-$(AIRFLOW)
# tests/system without its triggerer-restart test: before 3.3 a restart has no on_kill to get wrong.
AIRFLOW_SUITES := tests/provider/test_operator.py tests/provider/test_sensor.py tests/provider/test_trigger.py \
	tests/provider/test_airflow_cli.py tests/test_demo.py tests/unit/test_packaging.py tests/unit/test_compat.py \
	tests/flyte2/test_operator.py tests/flyte2/test_trigger.py tests/flyte2/test_sensor.py \
	tests/system/test_real_triggerer.py::test_marking_deferred_task_failed_aborts_flyte_execution \
	tests/system/test_real_triggerer.py::test_many_deferred_tasks_are_watched_together_by_one_triggerer
# What CI runs besides `make test`: the oldest supported release and a middle one, side by side
# (each mostly waits on Airflow and Flyte processes; two at once fit on 2 cores).
CI_AIRFLOWS := 3.0.6 3.2.2

$(AIRFLOW_VENV)/.installed: pyproject.toml constraints/airflow-$(AIRFLOW).txt
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install --quiet --upgrade pip
	$(AIRFLOW_VENV)/bin/pip install --quiet -e '.[test]' wtforms -c constraints/airflow-$(AIRFLOW).txt
	touch $@

test-airflow: $(AIRFLOW_VENV)/.installed
	$(AIRFLOW_VENV)/bin/pytest $(AIRFLOW_SUITES) $(PYTEST_ARGS)

test-airflow-%:
	$(MAKE) --no-print-directory test-airflow AIRFLOW=$*

test-airflows:
	$(MAKE) --no-print-directory -j2 --output-sync=target $(addprefix test-airflow-,$(CI_AIRFLOWS))

# ruff (rules in pyproject.toml) over the whole tree, mypy over the package.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The wheel users install into their Airflow image (this version is not on PyPI yet).
dist: $(STAMP)
	rm -rf dist
	$(VENV)/bin/pip wheel --quiet --no-deps --wheel-dir dist .

clean:
	rm -rf $(VENV) .venv-airflow-* .airflow_home .pytest_cache dist build
