"""A person approves a Flyte deployment from the Airflow UI (Airflow 3.1+ human-in-the-loop).

The Flyte workflow ``train_then_deploy`` pauses on its ``approve`` gate. Airflow launches it
without waiting, waits for the gate (``FlyteSignalSensor``), asks in the Airflow UI (Airflow's
``HITLOperator``), sends the answer to Flyte (``FlyteSignalOperator``) and waits for the end
(``FlyteSensor``, from the moment the gate is reached, so the log shows how the execution ended
whatever the answer, or if none came before the gate's timeout): approved, it deploys; rejected,
it fails with Flyte's cause in the log.

``HITLOperator`` with Approve / Reject rather than ``ApprovalOperator``: on Reject,
``ApprovalOperator`` skips its downstream tasks, and the rejection would never reach Flyte (the
gate would wait until its timeout). See docs/human-in-the-loop.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import DAG

from airflow_provider_flyte.operators.flyte import FlyteOperator
from airflow_provider_flyte.operators.signals import FlyteSignalOperator
from airflow_provider_flyte.sensors.flyte import FlyteSensor
from airflow_provider_flyte.sensors.signals import FlyteSignalSensor

with DAG(
    dag_id="example_flyte_approval",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["flyte", "example", "human-in-the-loop"],
):
    train = FlyteOperator(
        task_id="train",
        flyte_conn_id="flyte_conn",
        launchplan_name="flyte_workflows.approval_workflow.train_then_deploy",
        inputs={"k": 5},
        wait_for_termination=False,
    )
    gate = FlyteSignalSensor(
        task_id="wait_for_gate", flyte_conn_id="flyte_conn", execution_name=train.output, mode="reschedule"
    )
    review = HITLOperator(
        task_id="review",
        subject="Deploy the model trained in Flyte?",
        body="Flyte execution {{ ti.xcom_pull(task_ids='train') }} is "
        "{{ ti.xcom_pull(task_ids='wait_for_gate')['kind'] }}-waiting on "
        "`{{ ti.xcom_pull(task_ids='wait_for_gate')['signal_id'] }}`.",
        options=["Approve", "Reject"],
        execution_timeout=timedelta(hours=1),  # the gate's timeout in train_then_deploy
        # An answer given within seconds of the prompt can race Airflow's scheduler, which then fails
        # the resumed try (docs/human-in-the-loop.md); the retry asks again.
        retries=1,
        retry_delay=timedelta(seconds=10),
    )
    answer = FlyteSignalOperator(
        task_id="answer",
        flyte_conn_id="flyte_conn",
        execution_name=train.output,
        signal_id="{{ ti.xcom_pull(task_ids='wait_for_gate')['signal_id'] }}",
        value="{{ ti.xcom_pull(task_ids='review')['chosen_options'] == ['Approve'] }}",
    )
    deployed = FlyteSensor(
        task_id="deployed", flyte_conn_id="flyte_conn", execution_name=train.output, mode="reschedule"
    )

    train >> gate >> review >> answer
    gate >> deployed
