"""Importing the Flyte 2 modules a DAG file or the DAG processor loads stays cheap: none of the
protocol stacks (Flyte 2's or Flyte 1's) load until a task runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("flyte", "flyteidl2", "connectrpc", "pyqwest", "flytekit", "flyteidl", "grpc")
FLYTE2_MODULES = [
    "airflow_provider_flyte.flyte2.hook",
    "airflow_provider_flyte.flyte2.operator",
    "airflow_provider_flyte.flyte2.sensor",
    "airflow_provider_flyte.flyte2.trigger",
    "airflow_provider_flyte.flyte2.link",
    "airflow_provider_flyte.provider_info",
]


@pytest.mark.parametrize("module", FLYTE2_MODULES)
def test_importing_loads_no_flyte_sdk_idl_or_rpc_stack(module):
    code = f"import sys, {module}; print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert out.strip() == "[]"


def test_the_example_dag_file_parses_without_them():
    from tests.conftest import EXAMPLE_DAGS

    code = (
        "import runpy, sys; "
        f"runpy.run_path({str(EXAMPLE_DAGS / 'example_flyte2.py')!r}); "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"
    )

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert out.strip() == "[]"
