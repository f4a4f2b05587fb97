"""The DAGs of tests/system/test_event_trigger.py: an asset watched for ended Flyte executions of
``simple.sleepy_wf`` and a DAG scheduled on it that returns the executions it was started for."""

from __future__ import annotations

from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_flyte.triggers.events import FlyteExecutionEventTrigger

naps = Asset(
    "flyte_naps",
    watchers=[
        AssetWatcher(
            name="flyte_naps_ended",
            trigger=FlyteExecutionEventTrigger(
                "flytesnacks", "development", launch_plan="simple.sleepy_wf", conn_id="flyte_conn", poll_interval=1.0,
                event_spacing=3.0,
            ),
        )
    ],
)

with DAG(dag_id="flyte_naps_consumer", schedule=[naps], is_paused_upon_creation=False, catchup=False):

    @task
    def started_for(*, triggering_asset_events=None) -> list[str]:
        from airflow_provider_flyte.events.payload import FlyteExecutionEvent

        return [FlyteExecutionEvent.from_payload(e.extra).execution.name for e in triggering_asset_events[naps]]

    started_for()
