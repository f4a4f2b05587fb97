"""The Flyte 2 provider tests: real Airflow (``dag.test()``) against the local Flyte 2 run service
over real Connect, with the tasks in ``tasks/`` and the example DAG's in ``example_dags/flyte2_tasks``.

``flyte2_conn`` (and ``flyte2_default``) point at the service, as environment variables.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DOMAIN, EXAMPLE_DAGS, PROJECT

TASKS = [Path(__file__).parent / "tasks", EXAMPLE_DAGS / "flyte2_tasks"]


@pytest.fixture(scope="session")
def flyte2_service() -> Iterator[Any]:
    from airflow_provider_flyte.local_flyte2 import LocalFlyte2Service

    with LocalFlyte2Service(tasks=TASKS, port=0, project=PROJECT, domain=DOMAIN) as service:
        yield service


def flyte2_connection_json(service: Any, **extra: Any) -> str:
    host, port = service.endpoint.rsplit(":", 1)
    return json.dumps(
        {
            "conn_type": "flyte2",
            "host": host,
            "port": int(port),
            "extra": {"insecure": True, "project": PROJECT, "domain": DOMAIN, "retries": 3, "timeout": 10, **extra},
        }
    )


@pytest.fixture(scope="session")
def flyte2_conn(flyte2_service: Any) -> str:
    value = flyte2_connection_json(flyte2_service)
    os.environ["AIRFLOW_CONN_FLYTE2_CONN"] = value
    os.environ["AIRFLOW_CONN_FLYTE2_DEFAULT"] = value
    return "flyte2_conn"


@pytest.fixture
def faults(flyte2_service: Any) -> Iterator[Any]:
    """The service's fault injection, cleared after the test."""
    yield flyte2_service.faults
    flyte2_service.faults.clear()


def run_names(service: Any) -> list[str]:
    return sorted(run.name for run in service.runs())
