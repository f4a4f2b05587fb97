"""What a try does with an execution an earlier try (or a lost response) left behind."""

from __future__ import annotations

from airflow_provider_flyte.hooks.flyte import FlyteHook
from tests.airflow_runs import run_dag, task_instance, xcom
from tests.provider.dags import launch_directly, single_launch_dag
from tests.waiting import Phase, when_running

P, D = "flytesnacks", "development"



def creates(admin) -> int:
    return admin.rpc_counts.get("CreateExecution", 0)


def test_running_execution_is_reattached_not_relaunched(airflow_db, flyte_conn, flyte_admin):
    launch_directly("reattach-running", "simple.sleepy_wf", {"seconds": 2.0})
    before = creates(flyte_admin)

    run = run_dag(single_launch_dag("re_running", "simple.sleepy_wf", {"seconds": 2.0}, execution_name="reattach-running"))

    assert run.state == "success"
    assert creates(flyte_admin) == before
    assert xcom(run, "launch", key="outputs") == {"o0": 2.0}


def test_succeeded_execution_is_reused_with_its_outputs(airflow_db, flyte_conn, flyte_admin):
    launch_directly("reuse-succeeded", "simple.double_wf", {"x": 4})
    flyte_admin.wait_for_phase("reuse-succeeded", {Phase.SUCCEEDED}, timeout=30)
    before = creates(flyte_admin)

    run = run_dag(single_launch_dag("re_succeeded", "simple.double_wf", {"x": 4}, execution_name="reuse-succeeded"))

    assert run.state == "success"
    assert creates(flyte_admin) == before
    assert xcom(run, "launch", key="outputs") == {"o0": 8}


def test_aborted_execution_fails_the_task_without_relaunch_or_retry(airflow_db, flyte_conn, flyte_admin, capfd):
    launch_directly("was-aborted", "simple.sleepy_wf", {"seconds": 30.0})
    FlyteHook("flyte_conn").terminate(P, D, "was-aborted", "operator on call stopped it")
    flyte_admin.wait_for_phase("was-aborted", {Phase.ABORTED}, timeout=30)
    before = creates(flyte_admin)

    run = run_dag(single_launch_dag("re_aborted", "simple.sleepy_wf", {"seconds": 30.0}, execution_name="was-aborted", retries=2))

    assert run.state == "failed"
    ti = task_instance(run, "launch")
    assert ti.state == "failed" and ti.try_number == 1
    assert creates(flyte_admin) == before
    log = "".join(capfd.readouterr())
    assert "FlyteExecutionAborted" in log and "operator on call stopped it" in log


def test_abort_from_the_flyte_side_fails_the_waiting_task(airflow_db, flyte_conn, flyte_admin, capfd):
    def abort(_execution) -> None:
        FlyteHook("flyte_conn").terminate(P, D, "abort-from-flyte", "stopped in the Flyte console")

    with when_running(flyte_admin, "abort-from-flyte", abort):
        run = run_dag(single_launch_dag("flyte_side_abort", "simple.sleepy_wf", {"seconds": 60.0}, execution_name="abort-from-flyte", retries=2))

    assert run.state == "failed"
    assert task_instance(run, "launch").try_number == 1
    log = "".join(capfd.readouterr())
    assert "FlyteExecutionAborted" in log and "stopped in the Flyte console" in log


def test_operator_timeout_terminates_the_execution(airflow_db, flyte_conn, flyte_admin, capfd):
    run = run_dag(single_launch_dag("own_timeout", "simple.sleepy_wf", {"seconds": 60.0}, execution_name="own-timeout", timeout=2))

    assert run.state == "failed"
    assert "FlyteWaitTimeout" in "".join(capfd.readouterr())
    execution = flyte_admin.wait_for_phase("own-timeout", {Phase.ABORTED}, timeout=30)
    assert "timed out" in execution.closure.abort_metadata.cause
