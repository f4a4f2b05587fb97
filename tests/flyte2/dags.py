"""DAG factories for the Flyte 2 operator tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG

from airflow_provider_flyte.flyte2.operator import Flyte2Operator

START = datetime(2026, 1, 1)


def flyte2_dag(dag_id: str, task_name: str, inputs: dict[str, Any] | None = None, **op_kwargs: Any) -> DAG:
    with DAG(dag_id=dag_id, schedule=None, start_date=START, catchup=False) as dag:
        Flyte2Operator(
            task_id="run",
            flyte2_conn_id="flyte2_conn",
            project="flytesnacks",
            domain="development",
            task_name=task_name,
            inputs=inputs or {},
            **op_kwargs,
        )
    return dag
