"""Flyte2RunSensor through dag.test(), on runs created beside the DAG."""

from __future__ import annotations

from airflow.sdk import DAG

from airflow_provider_flyte.flyte2.sensor import Flyte2RunSensor
from tests.airflow_runs import run_dag, task_instance, xcom
from tests.flyte2.dags import START
from tests.flyte2.test_trigger import start


def sensor_dag(dag_id: str, run_name: str, **kwargs) -> DAG:
    with DAG(dag_id=dag_id, schedule=None, start_date=START, catchup=False) as dag:
        Flyte2RunSensor(task_id="wait", run_name=run_name, flyte2_conn_id="flyte2_conn", **kwargs)
    return dag


def test_the_sensor_succeeds_when_the_run_succeeded_and_pushes_its_outputs(airflow_db, flyte2_conn):
    name = start("sensor-success", "provider.scale", {"values": [2]})

    run = run_dag(sensor_dag("f2_sensor_ok", name, push_outputs=True, poke_interval=0.2))

    assert run.state == "success"
    assert xcom(run, "wait", key="outputs") == {"o0": {"scaled-0": 4.0}}


def test_a_deferred_sensor_fails_with_the_flyte_error_when_the_run_failed(airflow_db, flyte2_conn, capfd):
    name = start("sensor-failure", "provider.fail", {"message": "sensor boom"})

    run = run_dag(sensor_dag("f2_sensor_deferred", name, deferrable=True))

    assert run.state == "failed"
    log = "".join(capfd.readouterr())
    assert "FlyteExecutionFailed" in log and "sensor boom" in log


def test_soft_fail_skips_when_the_run_did_not_succeed(airflow_db, flyte2_conn):
    name = start("sensor-soft", "provider.fail", {"message": "soft"})

    run = run_dag(sensor_dag("f2_sensor_soft", name, soft_fail=True, poke_interval=0.2))

    assert task_instance(run, "wait").state == "skipped"


def test_the_sensor_closes_its_client_when_the_task_ends(flyte2_conn, flyte2_service):
    name = start("sensor-closes", "provider.scale", {"values": [1]})
    flyte2_service.wait_for_phase(name)
    sensor = Flyte2RunSensor(task_id="wait", run_name=name, flyte2_conn_id=flyte2_conn, poke_interval=0.2)

    sensor.execute({})  # poke mode reads nothing of the context

    assert "client" not in sensor.hook.__dict__  # closed and dropped; a later call would open another
