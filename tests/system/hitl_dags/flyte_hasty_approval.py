"""example_flyte_approval's shape around ``gates.hasty_approval_wf``, whose gate waits 2 s: for
tests/system/test_human_in_the_loop.py's unanswered-gate scenario."""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import DAG

from airflow_provider_flyte.operators.flyte import FlyteOperator
from airflow_provider_flyte.operators.signals import FlyteSignalOperator
from airflow_provider_flyte.sensors.flyte import FlyteSensor
from airflow_provider_flyte.sensors.signals import FlyteSignalSensor

with DAG(dag_id="flyte_hasty_approval", schedule=None, is_paused_upon_creation=False, catchup=False):
    train = FlyteOperator(
        task_id="train", flyte_conn_id="flyte_conn", launchplan_name="gates.hasty_approval_wf", inputs={"x": 2},
        wait_for_termination=False,
    )
    gate = FlyteSignalSensor(task_id="wait_for_gate", flyte_conn_id="flyte_conn", execution_name=train.output, poke_interval=0.5)
    review = HITLOperator(
        task_id="review", subject="Deploy?", options=["Approve", "Reject"], execution_timeout=timedelta(seconds=5)
    )
    answer = FlyteSignalOperator(
        task_id="answer", flyte_conn_id="flyte_conn", execution_name=train.output, signal_id="deploy-model",
        value="{{ ti.xcom_pull(task_ids='review')['chosen_options'] == ['Approve'] }}",
    )
    deployed = FlyteSensor(task_id="deployed", flyte_conn_id="flyte_conn", execution_name=train.output, poke_interval=0.5)
    train >> gate >> review >> answer
    gate >> deployed
