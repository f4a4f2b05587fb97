"""Airflow reacting to Flyte work it did not launch: a run per training that ends in Flyte.

The ML team trains in Flyte on its own terms (a Flyte schedule, ``pyflyte run``, a notebook with
FlyteRemote). ``FlyteExecutionEventTrigger`` watches the training launch plan from the triggerer
and records an asset event for each execution that succeeds; this DAG, scheduled on the asset,
reports each one. Executions launched by Airflow itself are left out (``include_airflow_launched``),
so ``example_flyte_assets``' training does not count twice. See docs/events.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_flyte.triggers.events import FlyteExecutionEventTrigger

TRAINED_IN_FLYTE = Asset(
    "flyte_trainings",
    watchers=[
        AssetWatcher(
            name="flyte_trainings_succeeded",
            trigger=FlyteExecutionEventTrigger(
                project="flytesnacks",
                domain="development",
                launch_plan="flyte_workflows.ml_workflow.training_workflow",
                conn_id="flyte_conn",
            ),
        )
    ],
)

with DAG(
    dag_id="example_flyte_events",
    schedule=[TRAINED_IN_FLYTE],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["flyte", "example", "events"],
):

    @task
    def report(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        """One line per training: usually one per run, several if they ended together."""
        from airflow_provider_flyte.events.payload import FlyteExecutionEvent

        lines = []
        for asset_event in triggering_asset_events[TRAINED_IN_FLYTE]:
            event = FlyteExecutionEvent.from_payload(asset_event.extra)
            accuracy = event.outputs.get("o0", {}).get("accuracy")
            lines.append({"execution": event.execution.name, "version": event.entity["version"], "accuracy": accuracy})
            print(f"{event.execution.name} ({event.entity['version']}): accuracy {accuracy} - {event.execution.url}")
        return lines

    report()
