"""Many deferred waits in one triggerer: tests/system/test_real_triggerer.py runs it.

Twenty mapped FlyteOperator tasks, each deferring on its own Flyte execution; the triggerer's
shared watcher serves them all with one client and batched polls.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG

from airflow_provider_flyte.operators.flyte import FlyteOperator

WAITS = 20

with DAG(dag_id="flyte_many_deferred", schedule=None, is_paused_upon_creation=False, catchup=False):
    FlyteOperator.partial(
        task_id="train",
        flyte_conn_id="flyte_conn",
        project="flytesnacks",
        domain="development",
        launchplan_name="simple.sleepy_wf",
        deferrable=True,
        max_active_tis_per_dag=WAITS,
        # Airflow 3.0.6 on SQLite now and then refuses a worker's start of a task it just queued
        # (409 on /run: the task fails before our code runs). Its retry launches the same execution
        # name, so "one execution per map index" still holds.
        retries=1,
        retry_delay=timedelta(seconds=1),
    # Long enough that no task resumes before the scheduler has seen it defer: Airflow 3.3 fails a
    # task whose deferral exit it learns of after the task was queued again.
    ).expand(inputs=[{"seconds": 12.0 + i % 3} for i in range(WAITS)])
