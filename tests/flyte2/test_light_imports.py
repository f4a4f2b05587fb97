"""What DAG files and Airflow see of the Flyte 2 support: a cheap example DAG file, and the
``flyte2`` connection type. (Each Flyte 2 module's own light import is checked with the others'
in tests/unit/test_packaging.py.)"""

from __future__ import annotations

import subprocess
import sys

HEAVY = {"flyte", "flyteidl2", "connectrpc", "pyqwest", "flytekit", "flyteidl", "grpc", "hypercorn"}


def test_the_example_dag_file_parses_without_loading_any_flyte_stack():
    from tests.conftest import EXAMPLE_DAGS

    code = (
        "import runpy, sys; "
        f"runpy.run_path({str(EXAMPLE_DAGS / 'example_flyte2.py')!r}); "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {HEAVY!r}))"
    )

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert out.strip() == "[]"


def test_airflow_discovers_the_flyte2_connection_type():
    from airflow.providers_manager import ProvidersManager

    hook = ProvidersManager().hooks["flyte2"]

    assert hook is not None and hook.hook_class_name == "airflow_provider_flyte.flyte2.hook.Flyte2Hook"
