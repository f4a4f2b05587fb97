"""FlyteSensor in poke, reschedule and deferrable modes, over real gRPC."""

from __future__ import annotations

import pytest
from airflow.sdk import DAG

from airflow_provider_flyte.operators.flyte import FlyteOperator
from airflow_provider_flyte.sensors.flyte import FlyteSensor
from tests.airflow_runs import run_dag, task_instance, xcom
from tests.provider.dags import START, launch_directly

P, D = "flytesnacks", "development"



def sensor_dag(dag_id: str, execution: str, **kwargs) -> DAG:
    with DAG(dag_id=dag_id, schedule=None, start_date=START) as dag:
        FlyteSensor(task_id="sense", execution_name=execution, project=P, domain=D, flyte_conn_id="flyte_conn", **kwargs)
    return dag


@pytest.mark.parametrize("mode", ["poke", "reschedule"])
def test_sensor_succeeds_when_the_execution_succeeds(airflow_db, flyte_conn, mode):
    name = launch_directly(f"sense-ok-{mode}", "simple.sleepy_wf", {"seconds": 1.5})

    run = run_dag(sensor_dag(f"sensor_ok_{mode}", name, mode=mode, push_outputs=True))

    assert run.state == "success"
    assert xcom(run, "sense", key="outputs") == {"o0": 1.5}


def test_deferrable_sensor_succeeds_when_the_execution_succeeds(airflow_db, flyte_conn):
    name = launch_directly("sense-ok-deferred", "simple.sleepy_wf", {"seconds": 1.5})

    run = run_dag(sensor_dag("sensor_ok_deferred", name, deferrable=True))

    assert run.state == "success"


@pytest.mark.parametrize("deferrable", [False, True])
def test_sensor_fails_when_the_execution_fails(airflow_db, flyte_conn, deferrable, capfd):
    name = launch_directly(f"sense-fail-{str(deferrable).lower()}", "simple.failing_wf", {"message": "sensor saw this"})

    run = run_dag(sensor_dag(f"sensor_fail_{deferrable}", name, deferrable=deferrable))

    assert run.state == "failed"
    assert "sensor saw this" in "".join(capfd.readouterr())


def test_soft_fail_skips_instead_of_failing(airflow_db, flyte_conn):
    name = launch_directly("sense-soft-fail", "simple.failing_wf", {"message": "x"})

    run = run_dag(sensor_dag("sensor_soft_fail", name, soft_fail=True))

    assert task_instance(run, "sense").state == "skipped"


def test_missing_execution_fails_the_sensor(airflow_db, flyte_conn, capfd):
    run = run_dag(sensor_dag("sensor_missing", "no-such-execution"))

    assert task_instance(run, "sense").state == "failed"
    log = "".join(capfd.readouterr())
    assert "FlyteWaitError" in log and "flytesnacks/development/no-such-execution does not exist" in log


def test_classic_operator_then_sensor_dag_as_in_0_0_5(airflow_db, flyte_conn):
    with DAG(dag_id="classic_pair", schedule=None, start_date=START) as dag:
        task = FlyteOperator(
            task_id="launch", flyte_conn_id="flyte_conn", project=P, domain=D, launchplan_name="simple.sleepy_wf",
            inputs={"seconds": 2.0},
        )
        FlyteSensor(task_id="sense", execution_name=task.output, project=P, domain=D, flyte_conn_id="flyte_conn")

    run = run_dag(dag)

    assert run.state == "success"
    assert task_instance(run, "sense").state == "success"
