"""The airflow-provider-flyte 0.0.5 pattern: launch with FlyteOperator, wait with FlyteSensor.

``wait_for_termination=False`` makes the operator return as soon as the execution exists, and the
sensor (here in reschedule mode, freeing its worker slot between pokes) waits for it.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_flyte.operators.flyte import FlyteOperator
from airflow_provider_flyte.sensors.flyte import FlyteSensor

with DAG(
    dag_id="example_flyte_classic",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["flyte", "example"],
) as dag:
    task = FlyteOperator(
        task_id="launch_training",
        flyte_conn_id="flyte_conn",
        project="flytesnacks",
        domain="development",
        launchplan_name="flyte_workflows.ml_workflow.training_workflow",
        inputs={"k": 7, "seed": 7},
        wait_for_termination=False,
    )

    sensor = FlyteSensor(
        task_id="wait_for_training",
        execution_name=task.output,
        project="flytesnacks",
        domain="development",
        flyte_conn_id="flyte_conn",
        mode="reschedule",
        push_outputs=True,
    )

    task >> sensor
