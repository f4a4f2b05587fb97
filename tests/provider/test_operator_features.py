"""Operator features visible to users: links, labels, templating, mapping, deferral."""

from __future__ import annotations

import time

from airflow.sdk import DAG

from airflow_provider_flyte.naming import execution_name
from airflow_provider_flyte.operators.flyte import FlyteOperator
from tests.airflow_runs import run_dag, xcom
from tests.provider.dags import START, single_launch_dag
from tests.waiting import Phase, when_running

P, D = "flytesnacks", "development"


def test_console_link_is_stored_for_the_execution(airflow_db, flyte_conn, flyte_admin):
    run = run_dag(single_launch_dag("op_link", "simple.double_wf", {"x": 1}))

    name = xcom(run, "launch")
    link = xcom(run, "launch", key="_link_FlyteExecutionLink")
    assert link == f"http://{flyte_admin.endpoint}/console/projects/{P}/domains/{D}/executions/{name}"


def test_console_link_is_visible_while_the_task_is_still_waiting(airflow_db, flyte_conn, flyte_admin):
    seen: list[str] = []

    def read_link(_execution) -> None:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:  # pushed right after launching
            with create_session() as session:
                row = session.query(XComModel).filter_by(dag_id="op_link_early", key="_link_FlyteExecutionLink").first()
                if row is not None:
                    seen.append(XComModel.deserialize_value(row))
            time.sleep(0.1)

    with when_running(flyte_admin, "link-while-waiting", read_link):
        run_dag(single_launch_dag("op_link_early", "simple.sleepy_wf", {"seconds": 3.0}, execution_name="link-while-waiting"))

    assert seen and seen[0].endswith("/executions/link-while-waiting")


def test_executions_carry_airflow_labels(airflow_db, flyte_conn, flyte_admin):
    run = run_dag(single_launch_dag("op_labels", "simple.double_wf", {"x": 1}, labels={"team": "ml"}))

    labels = dict(flyte_admin.get_execution(xcom(run, "launch")).spec.labels.values)
    assert labels["team"] == "ml"
    assert labels["airflow-dag-id"] == "op_labels"
    assert labels["airflow-task-id"] == "launch"
    assert labels["airflow-try-number"] == "1"
    assert labels["airflow-run-id"].startswith("manual__")


def test_task_instance_url_is_annotated_when_airflow_has_a_base_url(airflow_db, flyte_conn, flyte_admin, monkeypatch):
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com")

    run = run_dag(single_launch_dag("op_annotated", "simple.double_wf", {"x": 1}))

    annotations = dict(flyte_admin.get_execution(xcom(run, "launch")).spec.annotations.values)
    assert annotations["airflow-task-instance-url"].startswith("https://airflow.example.com/dags/op_annotated/runs/")


def test_templated_inputs_render_to_python_values(airflow_db, flyte_conn):
    dag = single_launch_dag(
        "op_templated",
        "simple.summarize_wf",
        {"values": "{{ params.numbers }}", "tags": {"run": "{{ dag_run.dag_id }}", "n": "2"}},
    )
    dag.params = {"numbers": [5, 7]}

    run = run_dag(dag)

    assert xcom(run, "launch", key="outputs") == {"o0": {"total": 12, "mean": 6.0, "labels": ["n", "run"]}}


def test_mapped_operator_launches_one_execution_per_map_index(airflow_db, flyte_conn, flyte_admin):
    with DAG(dag_id="op_mapped", schedule=None, start_date=START) as dag:
        FlyteOperator.partial(
            task_id="launch", flyte_conn_id="flyte_conn", project=P, domain=D, launchplan_name="simple.double_wf"
        ).expand(inputs=[{"x": 1}, {"x": 2}, {"x": 3}])

    run = run_dag(dag)

    names = [xcom(run, "launch", map_index=i) for i in range(3)]
    assert names == [execution_name("op_mapped", run.run_id, "launch", i) for i in range(3)]
    assert [xcom(run, "launch", key="outputs", map_index=i) for i in range(3)] == [{"o0": 2}, {"o0": 4}, {"o0": 6}]


def test_deferrable_operator_waits_in_the_trigger_and_pushes_outputs(airflow_db, flyte_conn):
    run = run_dag(single_launch_dag("op_deferred", "simple.sleepy_wf", {"seconds": 1.0}, deferrable=True))

    assert run.state == "success"
    assert xcom(run, "launch", key="outputs") == {"o0": 1.0}


def test_deferrable_operator_fails_on_a_failed_execution(airflow_db, flyte_conn, capfd):
    run = run_dag(single_launch_dag("op_deferred_fail", "simple.failing_wf", {"message": "deferred boom"}, deferrable=True))

    assert run.state == "failed"
    log = "".join(capfd.readouterr())
    assert "FlyteExecutionFailed" in log and "deferred boom" in log


def test_deferrable_operator_timeout_terminates_the_execution(airflow_db, flyte_conn, flyte_admin, capfd):
    run = run_dag(
        single_launch_dag("op_deferred_timeout", "simple.sleepy_wf", {"seconds": 60.0}, deferrable=True, timeout=2,
                          execution_name="deferred-timeout")
    )

    assert run.state == "failed"
    assert "FlyteWaitTimeout" in "".join(capfd.readouterr())
    execution = flyte_admin.wait_for_phase("deferred-timeout", {Phase.ABORTED}, timeout=30)
    assert "timed out after 2s" in execution.closure.abort_metadata.cause


def test_fire_and_forget_returns_before_the_execution_ends(airflow_db, flyte_conn, flyte_admin):
    run = run_dag(single_launch_dag("op_no_wait", "simple.sleepy_wf", {"seconds": 3.0}, wait_for_termination=False))

    assert run.state == "success"
    assert flyte_admin.get_execution(xcom(run, "launch")).closure.phase in (Phase.UNDEFINED, Phase.QUEUED, Phase.RUNNING)
    assert xcom(run, "launch", key="outputs") is None


def test_a_static_execution_name_is_not_adopted_by_the_next_run(airflow_db, flyte_conn, flyte_admin, capfd):
    first = run_dag(single_launch_dag("op_static_name", "simple.double_wf", {"x": 1}, execution_name="static-name"))
    second = run_dag(single_launch_dag("op_static_name", "simple.double_wf", {"x": 1}, execution_name="static-name"))

    assert first.state == "success" and second.state == "failed"
    assert "Flyte execution 'static-name' belongs to another task instance" in "".join(capfd.readouterr())
    assert xcom(second, "launch", key="outputs") is None


def test_bad_argument_combinations_fail_at_parse_time():
    import pytest

    with pytest.raises(ValueError, match="exactly one of launchplan_name or task_name"):
        FlyteOperator(task_id="both", launchplan_name="a", task_name="b")
    with pytest.raises(ValueError, match="exactly one of launchplan_name or task_name"):
        FlyteOperator(task_id="neither")
    with pytest.raises(ValueError, match="not a valid Flyte execution name"):
        FlyteOperator(task_id="x", launchplan_name="a", execution_name="Bad_Name")
    with pytest.raises(ValueError, match="poll_interval"):
        FlyteOperator(task_id="x", launchplan_name="a", poll_interval=0)


def test_a_single_task_can_be_launched_without_a_launch_plan(airflow_db, flyte_conn, flyte_admin):
    with DAG(dag_id="op_task", schedule=None, start_date=START) as dag:
        FlyteOperator(task_id="launch", flyte_conn_id="flyte_conn", project=P, domain=D, task_name="simple.double",
                      inputs={"x": 4})

    run = run_dag(dag)

    assert run.state == "success"
    assert xcom(run, "launch", key="outputs") == {"o0": 8}
    from flyteidl.core.identifier_pb2 import ResourceType

    assert flyte_admin.get_execution(xcom(run, "launch")).spec.launch_plan.resource_type == ResourceType.TASK


def test_deferrable_operator_logs_the_whole_flyte_error_that_lists_trim(airflow_db, flyte_conn, capfd):
    # FlyteAdmin's ListExecutions keeps only the first 100 bytes of an error message; a Python
    # traceback's cause is on its last line.
    message = "a long preamble " * 10 + "| the cause is here at the very end"
    run = run_dag(single_launch_dag("op_deferred_long_error", "simple.failing_wf", {"message": message}, deferrable=True))

    assert run.state == "failed"
    log = "".join(capfd.readouterr())
    assert "FlyteExecutionFailed" in log and "the cause is here at the very end" in log
