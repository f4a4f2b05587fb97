"""Flyte results as an Airflow asset: training publishes the asset, reporting runs on it.

``FlyteOperator(outlets=[...])`` records an asset event when the Flyte execution succeeds; with
``outlet_outputs`` the event's ``extra`` carries those outputs beside the execution's name and
console URL. The ``flyte://<project>/<domain>/<launch plan>`` scheme is the provider's: Airflow
validates it when this file is parsed. The second DAG runs once per such event and reads what the
event says (see docs/lineage.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Asset, task

from airflow_provider_flyte.operators.flyte import FlyteOperator

TRAINED_MODEL = Asset("flyte://flytesnacks/development/flyte_workflows.ml_workflow.training_workflow")

with DAG(
    dag_id="example_flyte_assets",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["flyte", "example", "assets"],
):
    FlyteOperator(
        task_id="train",
        flyte_conn_id="flyte_conn",
        launchplan_name="flyte_workflows.ml_workflow.training_workflow",
        inputs={"k": 5, "seed": 11},
        outlets=[TRAINED_MODEL],
        outlet_outputs=["o0"],  # the Metrics the workflow returns
    )

with DAG(
    dag_id="example_flyte_assets_report",
    schedule=[TRAINED_MODEL],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["flyte", "example", "assets"],
):

    @task
    def report(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        """One line per training that published the asset: which execution, how accurate."""
        lines = []
        for event in triggering_asset_events[TRAINED_MODEL]:
            metrics = event.extra["outputs"]["o0"]
            lines.append({"execution": event.extra["flyte_execution"], "accuracy": metrics["accuracy"]})
            print(f"{event.extra['flyte_execution']}: accuracy {metrics['accuracy']:.3f} ({event.extra['flyte_console_url']})")
        return lines

    report()
