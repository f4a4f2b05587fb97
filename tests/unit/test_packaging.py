"""What Airflow and DAG files see of the package: discovery, metadata, light imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

LIGHT_MODULES = [
    "airflow_provider_flyte",
    "airflow_provider_flyte.hooks.flyte",
    "airflow_provider_flyte.operators.flyte",
    "airflow_provider_flyte.sensors.flyte",
    "airflow_provider_flyte.triggers.flyte",
    "airflow_provider_flyte.triggers.events",
    "airflow_provider_flyte.operators.signals",
    "airflow_provider_flyte.sensors.signals",
    "airflow_provider_flyte.triggers.signals",
    "airflow_provider_flyte.links.flyte",
    "airflow_provider_flyte.flyte2.hook",
    "airflow_provider_flyte.flyte2.operator",
    "airflow_provider_flyte.flyte2.sensor",
    "airflow_provider_flyte.flyte2.trigger",
    "airflow_provider_flyte.flyte2.link",
]
# Flyte 1's stack and Flyte 2's (the SDK, its IDL, Connect and its HTTP client): none loads at parse time.
HEAVY = {"flytekit", "flyteidl", "grpc", "flyte", "flyteidl2", "connectrpc", "pyqwest", "hypercorn"}


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_importing_does_not_load_flytekit_flyteidl_or_grpc(module):
    code = f"import sys, {module}; print(sorted({{m.split('.')[0] for m in sys.modules}} & {HEAVY!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_provider_info_passes_airflows_schema():
    import importlib.resources

    import jsonschema

    from airflow_provider_flyte import get_provider_info

    schema = json.loads(importlib.resources.files("airflow").joinpath("provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_airflow_discovers_the_provider_and_the_flyte_connection_type():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-flyte" in manager.providers
    assert manager.hooks["flyte"].hook_class_name == "airflow_provider_flyte.hooks.flyte.FlyteHook"
