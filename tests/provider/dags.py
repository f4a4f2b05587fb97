"""DAG factories shared by the provider tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG

from airflow_provider_flyte.operators.flyte import FlyteOperator

START = datetime(2026, 1, 1)


def single_launch_dag(dag_id: str, launchplan_name: str, inputs: dict[str, Any] | None = None, **op_kwargs: Any) -> DAG:
    with DAG(dag_id=dag_id, schedule=None, start_date=START, catchup=False) as dag:
        FlyteOperator(
            task_id="launch",
            flyte_conn_id="flyte_conn",
            project="flytesnacks",
            domain="development",
            launchplan_name=launchplan_name,
            inputs=inputs or {},
            **op_kwargs,
        )
    return dag
