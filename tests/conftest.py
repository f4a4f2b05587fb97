"""Test harness: a throwaway Airflow 3 home on SQLite and the local Flyte admin over real gRPC.

Airflow reads AIRFLOW_HOME when it is first imported, so the environment is set here, before
any test module imports airflow.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="airflow-home-"))
(_HOME / "dags").mkdir()
os.environ.update(
    {
        "AIRFLOW_HOME": str(_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(_HOME / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        # Airflow 3.0 prints a failed task's error as a rich traceback, wrapped at the terminal's
        # width: wide enough that a message stays on one line for the tests to find it.
        "COLUMNS": "1000",
    }
)

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TEST_WORKFLOWS = REPO / "tests" / "workflows" / "simple.py"
GATE_WORKFLOWS = REPO / "tests" / "workflows" / "gates.py"
EXAMPLE_DAGS = REPO / "example_dags"  # the DAG folder users mount (docker-compose.yaml does)
EXAMPLE_WORKFLOWS = sorted((EXAMPLE_DAGS / "flyte_workflows").glob("*_workflow.py"))
PROJECT = "flytesnacks"
DOMAIN = "development"


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.utils import db

    db.initdb()
    DagBundlesManager().sync_bundles_to_db()
    return _HOME


def example_dag(dag_id: str):
    """An example DAG as Airflow's DAG processor finds it: ``example_dags/`` parsed by a DagBag."""
    from tests.airflow_runs import dag_bag

    bag = dag_bag(EXAMPLE_DAGS)
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


@pytest.fixture(scope="session")
def flyte_admin():
    from airflow_provider_flyte.local_admin import LocalFlyteAdmin

    with LocalFlyteAdmin(workflows=[TEST_WORKFLOWS, GATE_WORKFLOWS, *EXAMPLE_WORKFLOWS], project=PROJECT, domain=DOMAIN, port=0) as admin:
        yield admin


def connection_json(admin, **extra) -> str:
    host, port = admin.endpoint.rsplit(":", 1)
    return json.dumps(
        {
            "conn_type": "flyte",
            "host": host,
            "port": int(port),
            "extra": {"insecure": True, "project": PROJECT, "domain": DOMAIN, "retries": 2, "timeout": 10, **extra},
        }
    )


@pytest.fixture(scope="session")
def flyte_conn(flyte_admin) -> str:
    """``flyte_conn`` (and ``flyte_default``) point at the local admin, as environment variables."""
    value = connection_json(flyte_admin)
    os.environ["AIRFLOW_CONN_FLYTE_CONN"] = value
    os.environ["AIRFLOW_CONN_FLYTE_DEFAULT"] = value
    return "flyte_conn"
