"""Train a model on Flyte from Airflow and use its typed metrics downstream.

Airflow prepares the run (here: picks hyperparameters), FlyteOperator launches the Flyte launch
plan and waits, FlyteSensor shows the 0.0.5-style "launch then sense" pattern on the same
execution, and a downstream Airflow task gates on the model's accuracy from the XCom ``outputs``.
Needs a ``flyte_conn`` connection to a FlyteAdmin where ``ml_workflow.py`` is registered (``make
demo`` starts the local admin and sets it up).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_flyte.operators.flyte import FlyteOperator
from airflow_provider_flyte.sensors.flyte import FlyteSensor

LAUNCH_PLAN = "flyte_workflows.ml_workflow.training_workflow"
MIN_ACCURACY = 0.9

with DAG(
    dag_id="example_flyte_ml",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["flyte", "example"],
) as dag:

    @task
    def choose_hyperparameters() -> dict[str, Any]:
        return {"k": 5, "test_fraction": 0.3, "seed": 42}

    hyperparameters = choose_hyperparameters()

    train = FlyteOperator(
        task_id="train_model",
        flyte_conn_id="flyte_conn",
        project="flytesnacks",
        domain="development",
        launchplan_name=LAUNCH_PLAN,
        inputs=hyperparameters,
    )

    wait = FlyteSensor(
        task_id="wait_for_training",
        execution_name=train.output,
        project="flytesnacks",
        domain="development",
        flyte_conn_id="flyte_conn",
    )

    @task
    def check_model(**context: Any) -> float:
        outputs = context["ti"].xcom_pull(task_ids="train_model", key="outputs")
        metrics = outputs["o0"]
        print(f"accuracy={metrics['accuracy']} recall={metrics['per_class_recall']}")
        if metrics["accuracy"] < MIN_ACCURACY:
            raise ValueError(f"Model accuracy {metrics['accuracy']} is below {MIN_ACCURACY}")
        return metrics["accuracy"]

    hyperparameters >> train >> wait >> check_model()
