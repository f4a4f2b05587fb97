"""Flyte 2 from Airflow: run a deployed Flyte 2 task, wait for the run, use its outputs.

``Flyte2Operator`` runs the task ``training.fit`` (example_dags/flyte2_tasks/training.py; the
newest deployed version, since none is given) with typed inputs, in the triggerer
(``deferrable=True``). Its run is named after the task instance, so a retry reattaches to it
instead of starting another; its outputs are in XCom under ``outputs``. A ``flyte2``
connection (docs/flyte2.md) says where Flyte 2 is: here ``flyte2_conn``, e.g.
``AIRFLOW_CONN_FLYTE2_CONN='{"conn_type": "flyte2", "host": "localhost", "port": 30080,
"extra": {"insecure": true, "project": "flytesnacks", "domain": "development"}}'`` for a devbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_flyte.flyte2.operator import Flyte2Operator

with DAG(
    dag_id="example_flyte2",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"epochs": 5},
    tags=["flyte", "flyte2", "example"],
) as dag:
    fit = Flyte2Operator(
        task_id="fit",
        flyte2_conn_id="flyte2_conn",
        project="flytesnacks",
        domain="development",
        task_name="training.fit",
        inputs={"epochs": "{{ params.epochs }}", "learning_rate": 0.2, "tags": ["example", "{{ dag.dag_id }}"]},
        deferrable=True,
        timeout=600,
    )

    @task
    def report(**context: Any) -> float:
        outputs = context["ti"].xcom_pull(task_ids="fit", key="outputs")
        loss = outputs["o0"]["loss"]
        print(f"run {context['ti'].xcom_pull(task_ids='fit')} reached loss {loss}")
        return float(loss)

    fit >> report()
