"""A run whose ``dagrun_timeout`` expires while its Flyte waits are deferred: tests/deployment
runs it to check that the scheduler's timeout stops the Flyte executions too."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG

from airflow_provider_flyte.operators.flyte import FlyteOperator

DAG_ID = "flyte_stop_timeout"
WAITS = 10
TIMEOUT = timedelta(seconds=45)

with DAG(
    dag_id=DAG_ID,
    schedule=None,
    is_paused_upon_creation=False,
    catchup=False,
    dagrun_timeout=TIMEOUT,
    tags=["deployment-test"],
):
    FlyteOperator.partial(
        task_id="deferred",
        flyte_conn_id="flyte_conn",
        project="flytesnacks",
        domain="development",
        launchplan_name="simple.sleepy_wf",
        deferrable=True,
    ).expand(inputs=[{"seconds": 600.0}] * WAITS)
