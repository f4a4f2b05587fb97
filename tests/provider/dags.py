"""DAG factories and direct launches shared by the provider tests."""

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


def launch_directly(name: str, launch_plan: str, inputs: dict[str, Any], conn_id: str = "flyte_conn") -> str:
    """Start an execution outside any DAG (as another tool, or an earlier try, would)."""
    from airflow_provider_flyte.hooks.admin_messages import LaunchOptions
    from airflow_provider_flyte.hooks.flyte import FlyteHook

    hook = FlyteHook(conn_id)
    hook.launch(hook.resolve_launch_plan("flytesnacks", "development", launch_plan), name, inputs, LaunchOptions())
    return name
