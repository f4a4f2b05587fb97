"""Every shipped example DAG runs green against the local admin."""

from __future__ import annotations

from tests.airflow_runs import run_dag, task_instance, xcom


def test_classic_operator_and_sensor_example(airflow_db, flyte_conn):
    from airflow_provider_flyte.example_dags.example_flyte_classic import dag

    run = run_dag(dag)

    assert run.state == "success"
    assert xcom(run, "wait_for_training", key="outputs")["o0"]["k"] == 7


def test_deferrable_mapped_example_picks_the_best_model(airflow_db, flyte_conn):
    from airflow_provider_flyte.example_dags.example_flyte_deferrable import dag

    run = run_dag(dag)

    assert run.state == "success"
    assert [task_instance(run, "train", i).state for i in range(4)] == ["success"] * 4
    best = xcom(run, "pick_best")
    assert best["k"] in (1, 3, 5, 9) and best["accuracy"] >= 0.9


def test_recover_example_reruns_only_the_failed_node(airflow_db, flyte_conn, flyte_admin):
    from airflow_provider_flyte.example_dags.example_flyte_recover import dag

    run = run_dag(dag)

    assert run.state == "success"
    assert task_instance(run, "train_and_publish").try_number == 2
    assert xcom(run, "check_training_ran_once") == 1
    recovered = flyte_admin.get_execution(xcom(run, "train_and_publish"))
    assert recovered.id.name.endswith("-r2")
    assert xcom(run, "train_and_publish", key="_link_FlyteExecutionLink").endswith("/executions/" + recovered.id.name)
    from flyteidl.admin.execution_pb2 import ExecutionMetadata

    assert recovered.spec.metadata.mode == ExecutionMetadata.RECOVERED
