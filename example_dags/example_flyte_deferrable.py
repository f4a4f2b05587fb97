"""A deferrable ML pipeline: the wait happens in the triggerer, not in a worker slot.

One training run per value of ``k`` (dynamic task mapping: one Flyte execution per map index,
each with its own deterministic name), then an Airflow task picks the best model from the typed
metrics the executions returned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_flyte.operators.flyte import FlyteOperator

LAUNCH_PLAN = "flyte_workflows.ml_workflow.training_workflow"

with DAG(
    dag_id="example_flyte_deferrable",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"k_values": [1, 3, 5, 9]},
    tags=["flyte", "example"],
) as dag:

    @task
    def hyperparameter_grid(**context: Any) -> list[dict[str, Any]]:
        return [{"k": k, "seed": 42, "test_fraction": 0.3} for k in context["params"]["k_values"]]

    train = FlyteOperator.partial(
        task_id="train",
        flyte_conn_id="flyte_conn",
        project="flytesnacks",
        domain="development",
        launchplan_name=LAUNCH_PLAN,
        deferrable=True,
    ).expand(inputs=hyperparameter_grid())

    @task
    def pick_best(**context: Any) -> dict[str, Any]:
        runs = context["ti"].xcom_pull(task_ids="train", key="outputs")
        best = max((r["o0"] for r in runs), key=lambda m: (m["accuracy"], -m["k"]))
        print(f"best k={best['k']} accuracy={best['accuracy']}")
        return best

    train >> pick_best()
