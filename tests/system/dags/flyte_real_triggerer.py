"""The DAG that tests/system/test_real_triggerer.py runs through real Airflow processes.

The connection ``flyte_conn`` comes from the environment of the processes the test starts;
how long the workflow sleeps comes from the run's conf.
"""

from __future__ import annotations

from airflow.sdk import DAG

from airflow_provider_flyte.operators.flyte import FlyteOperator

with DAG(dag_id="flyte_real_triggerer", schedule=None, is_paused_upon_creation=False, catchup=False):
    FlyteOperator(
        task_id="train",
        flyte_conn_id="flyte_conn",
        project="flytesnacks",
        domain="development",
        launchplan_name="simple.sleepy_wf",
        inputs={"seconds": "{{ dag_run.conf['seconds'] }}"},
        deferrable=True,
        poll_interval=1,
    )
