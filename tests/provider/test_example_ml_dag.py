"""The example DAG of ``make demo`` (example_dags/example_flyte_ml.py), end to end: real Airflow 3,
real gRPC, a real flytekit workflow."""

from __future__ import annotations

from tests.airflow_runs import run_dag, task_instance, xcom
from tests.conftest import example_dag
from tests.waiting import Phase


def test_example_dag_trains_on_flyte_and_gates_on_the_typed_metrics(airflow_db, flyte_conn, flyte_admin):
    dag = example_dag("example_flyte_ml")

    run = run_dag(dag)

    assert run.state == "success"
    name = xcom(run, "train_model")
    assert flyte_admin.get_execution(name).closure.phase == Phase.SUCCEEDED
    metrics = xcom(run, "train_model", key="outputs")["o0"]
    assert metrics["accuracy"] >= 0.9
    assert metrics["n_train"] + metrics["n_test"] == 150
    assert task_instance(run, "wait_for_training").state == "success"
    assert xcom(run, "check_model") == metrics["accuracy"]
