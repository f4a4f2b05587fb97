"""The local Flyte 2 service stands alone: it needs neither Airflow nor the provider's clients, and the
provider package never loads it (a DAG file's import stays cheap)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import airflow_provider_flyte.local_flyte2 as local_flyte2

PACKAGE = Path(local_flyte2.__file__).parent
FORBIDDEN = ("airflow", "airflow_provider_flyte.hooks", "airflow_provider_flyte.flyte2", "airflow_provider_flyte.local_admin")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_service_imports_no_airflow_and_none_of_the_providers_clients_or_the_flyte_1_admin():
    offending = {
        f"{path.name}: {name}"
        for path in PACKAGE.glob("*.py")
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not offending


def test_importing_the_provider_package_does_not_load_the_service():
    code = "import sys, airflow_provider_flyte; print(any(m.startswith('airflow_provider_flyte.local_flyte2') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
