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
        (("providers", "triggers"), "airflow_provider_flyte.triggers.events"),
        (("providers", "links"), "airflow_provider_flyte.links.flyte.FlyteExecutionLink"),
        (("providers", "hooks"), "airflow_provider_flyte.hooks.flyte.FlyteHook"),
    ],
)
def test_airflow_lists_the_providers_pieces(airflow_db, command, expected):
    assert expected in airflow(*command).stdout


def test_a_connection_added_with_the_cli_works_like_the_json_one(airflow_db, flyte_conn, flyte_admin):
    import dataclasses
    import json

    from airflow.sdk import Connection

    from airflow_provider_flyte.compat import BaseHook
    from airflow_provider_flyte.hooks.flyte import config_from_connection

    host, port = flyte_admin.endpoint.rsplit(":", 1)
    extra = '{"insecure": "true", "project": "flytesnacks", "domain": "development", "retries": "2", "timeout": "10"}'
    added = airflow("connections", "add", "flyte_from_cli", "--conn-type", "flyte", "--conn-host", host,
                    "--conn-port", port, "--conn-extra", extra)
    assert added.returncode == 0, added.stderr

    tested = airflow("connections", "test", "flyte_from_cli", AIRFLOW__CORE__TEST_CONNECTION="Enabled")
    # WARNING: Airflow 3.0 prints INFO lines to stdout, ahead of the JSON
    stored = json.loads(
        airflow("connections", "get", "flyte_from_cli", "-o", "json", AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING").stdout
    )[0]
    from_cli = Connection(conn_id="flyte_from_cli", conn_type="flyte", host=stored["host"], port=int(stored["port"]),
                          extra=json.dumps(stored["extra_dejson"]))
    from_env = BaseHook.get_connection(flyte_conn)  # AIRFLOW_CONN_FLYTE_CONN, read as Airflow reads it

    assert "Connection success!" in tested.stdout, tested.stdout + tested.stderr
    assert config_from_connection(from_cli, from_cli.extra_dejson) == dataclasses.replace(
        config_from_connection(from_env, from_env.extra_dejson), conn_id="flyte_from_cli"
    )
