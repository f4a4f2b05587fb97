"""What a FlyteOperator writes down about the execution it owns, for Airflow to stop it by.

The API server and the scheduler (``airflow_provider_flyte.stopping``) terminate what these
records name when Airflow stops the task instance; tests/deployment checks that end to end.
"""

from __future__ import annotations

from airflow_provider_flyte.stopping.records import XCOM_KEY, OwnedExecution, stop_cause
from tests.airflow_runs import run_dag, xcom
from tests.provider.dags import single_launch_dag


def test_a_waiting_operator_records_the_execution_it_owns(airflow_db, flyte_conn):
    run = run_dag(single_launch_dag("owns_record", "simple.double_wf", {"x": 1}))

    name = xcom(run, "launch")
    assert xcom(run, "launch", key=XCOM_KEY) == {
        "conn_id": "flyte_conn", "project": "flytesnacks", "domain": "development", "name": name,
    }


def test_fire_and_forget_records_nothing_so_airflow_never_stops_it(airflow_db, flyte_conn):
    run = run_dag(single_launch_dag("owns_no_record", "simple.double_wf", {"x": 1}, wait_for_termination=False))

    assert xcom(run, "launch", key=XCOM_KEY) is None


def test_terminate_on_kill_false_records_nothing(airflow_db, flyte_conn):
    run = run_dag(single_launch_dag("owns_no_kill", "simple.double_wf", {"x": 1}, terminate_on_kill=False))

    assert xcom(run, "launch", key=XCOM_KEY) is None


def test_a_record_that_is_not_ours_is_ignored():
    assert OwnedExecution.from_xcom({"conn_id": "c", "project": "p", "domain": "d"}) is None
    assert OwnedExecution.from_xcom("af-x") is None
    assert OwnedExecution.from_xcom({"conn_id": "c", "project": "p", "domain": "d", "name": "n"}) == OwnedExecution("c", "p", "d", "n")


def test_every_stopper_uses_one_cause_naming_the_task_try_and_run():
    assert stop_cause("etl", "train", 2, "manual__1") == "Stopped by Airflow: task etl.train try 2 (run manual__1) was stopped"
