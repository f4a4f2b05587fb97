"""The provider as Airflow's own CLI sees it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

AIRFLOW = str(Path(sys.executable).parent / "airflow")


def airflow(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AIRFLOW, *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=120)


def test_connections_test_makes_a_real_call_to_flyteadmin(airflow_db, flyte_conn):
    done = airflow("connections", "test", "flyte_conn", AIRFLOW__CORE__TEST_CONNECTION="Enabled")

    assert "Connection success!" in done.stdout, done.stdout + done.stderr


def test_connections_test_reports_an_unreachable_admin(airflow_db):
    dead = '{"conn_type": "flyte", "host": "127.0.0.1", "port": 1, "extra": {"insecure": true, "retries": 0, "timeout": 2}}'
    done = airflow("connections", "test", "flyte_dead", AIRFLOW__CORE__TEST_CONNECTION="Enabled", AIRFLOW_CONN_FLYTE_DEAD=dead)

    assert "Could not reach FlyteAdmin at 127.0.0.1:1" in done.stdout + done.stderr


@pytest.mark.parametrize(
    "command,expected",
    [
        (("providers", "triggers"), "airflow_provider_flyte.triggers.flyte"),
        (("providers", "links"), "airflow_provider_flyte.links.flyte.FlyteExecutionLink"),
        (("providers", "hooks"), "airflow_provider_flyte.hooks.flyte.FlyteHook"),
    ],
)
def test_airflow_lists_the_providers_pieces(airflow_db, command, expected):
    assert expected in airflow(*command).stdout
