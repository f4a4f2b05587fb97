"""Airflow retries of a FlyteOperator: recover, relaunch, and executions Airflow itself aborted."""

from __future__ import annotations

import datetime
from datetime import timedelta
from pathlib import Path

from flyteidl.admin.execution_pb2 import ExecutionMetadata

from airflow_provider_flyte.naming import execution_name
from tests.airflow_runs import run_dag, task_instance, xcom
from tests.provider.dags import single_launch_dag
from tests.waiting import Phase

PUBLISH = "flyte_workflows.publish_workflow.train_and_publish"  # example_dags/flyte_workflows/


def test_relaunch_instead_of_recover_reruns_every_node(airflow_db, flyte_conn, flyte_admin, tmp_path: Path):
    dag = single_launch_dag(
        "retry_relaunch", PUBLISH, {"state_dir": str(tmp_path), "k": 3},
        retries=1, retry_delay=timedelta(0), recover_on_retry=False,
    )

    run = run_dag(dag)

    assert run.state == "success"
    relaunched = flyte_admin.get_execution(xcom(run, "launch"))
    assert relaunched.id.name == execution_name("retry_relaunch", run.run_id, "launch") + "-r2"
    assert relaunched.spec.metadata.mode == ExecutionMetadata.RELAUNCH
    assert len((tmp_path / "train_runs").read_text().splitlines()) == 2


def test_an_execution_airflow_aborted_is_recovered_by_the_next_try(airflow_db, flyte_conn, flyte_admin):
    dag = single_launch_dag(
        "retry_after_kill", "simple.sleepy_wf", {"seconds": 60.0},
        retries=1, retry_delay=timedelta(0), execution_timeout=timedelta(seconds=3),
    )

    run = run_dag(dag)

    assert run.state == "failed"
    assert task_instance(run, "launch").try_number == 2
    base = execution_name("retry_after_kill", run.run_id, "launch")
    retry = flyte_admin.get_execution(base + "-r2")
    assert retry.spec.metadata.mode == ExecutionMetadata.RECOVERED
    assert retry.spec.metadata.reference_execution.name == base
    assert flyte_admin.get_execution(base).closure.abort_metadata.cause.startswith("Stopped by Airflow: ")


def _fail_first_try(context) -> None:
    if context["ti"].try_number == 1:
        raise RuntimeError("first try lost its worker before launching")


def test_an_execution_aborted_by_an_earlier_try_after_reattaching_is_recovered(airflow_db, flyte_conn, flyte_admin):
    """The clear/kill race: try 2 reattaches to the running execution, then try 1's kill lands."""
    import threading
    import time

    from airflow_provider_flyte.hooks.admin_messages import LaunchOptions
    from airflow_provider_flyte.hooks.flyte import FlyteHook
    from airflow_provider_flyte.phases import airflow_abort_cause

    hook = FlyteHook("flyte_conn")
    hook.launch(hook.resolve_launch_plan("flytesnacks", "development", "simple.sleepy_wf"), "race-exec",
                {"seconds": 6.0}, LaunchOptions())
    reads_before = flyte_admin.rpc_counts.get("GetExecution", 0)

    def kill_after_try_two_reattached() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # try 2 looks the execution up, then polls it: a few reads mean it is waiting on it
            if flyte_admin.rpc_counts.get("GetExecution", 0) - reads_before >= 4:
                hook.terminate("flytesnacks", "development", "race-exec", airflow_abort_cause("task try 1 was stopped"))
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_after_try_two_reattached)
    killer.start()
    run = run_dag(single_launch_dag(
        "retry_race", "simple.sleepy_wf", {"seconds": 6.0}, execution_name="race-exec",
        retries=1, retry_delay=timedelta(0), pre_execute=_fail_first_try, poll_interval=0.3,
    ))
    killer.join()

    assert run.state == "success"
    assert task_instance(run, "launch").try_number == 2
    recovered = flyte_admin.get_execution("race-exec-r2")
    assert recovered.spec.metadata.mode == ExecutionMetadata.RECOVERED
    assert xcom(run, "launch") == "race-exec-r2"


def test_a_successor_recovered_after_resuming_keeps_the_tries_deadline(airflow_db, flyte_conn, flyte_admin, capfd):
    """``timeout`` counts from when the try began waiting, also across deferral and recovery."""
    import threading
    import time

    from airflow_provider_flyte.hooks.admin_messages import LaunchOptions
    from airflow_provider_flyte.hooks.flyte import FlyteHook
    from airflow_provider_flyte.phases import airflow_abort_cause

    hook = FlyteHook("flyte_conn")
    hook.launch(hook.resolve_launch_plan("flytesnacks", "development", "simple.sleepy_wf"), "deadline-kept",
                {"seconds": 30.0}, LaunchOptions())
    lists_before = flyte_admin.rpc_counts.get("ListExecutions", 0)
    killed_at: list[float] = []

    def kill_while_try_two_is_deferred() -> None:
        deadline = time.monotonic() + 60
        while flyte_admin.rpc_counts.get("ListExecutions", 0) == lists_before and time.monotonic() < deadline:
            time.sleep(0.05)  # only the trigger lists executions: try 2 is deferred now
        time.sleep(3)
        killed_at.append(time.time())
        hook.terminate("flytesnacks", "development", "deadline-kept", airflow_abort_cause("task try 1 was stopped"))

    killer = threading.Thread(target=kill_while_try_two_is_deferred)
    killer.start()
    run = run_dag(single_launch_dag(
        "deadline_kept", "simple.sleepy_wf", {"seconds": 30.0}, execution_name="deadline-kept", deferrable=True,
        timeout=6, retries=1, retry_delay=timedelta(0), pre_execute=_fail_first_try,
    ))
    killer.join()

    assert run.state == "failed"
    assert "FlyteWaitTimeout" in "".join(capfd.readouterr())
    successor = flyte_admin.wait_for_phase("deadline-kept-r2", {Phase.ABORTED}, timeout=30)
    assert "timed out after 6s" in successor.closure.abort_metadata.cause
    # The successor got what was left of the try's 6 s (about 3 s), not 6 s of its own.
    aborted_after = successor.closure.updated_at.ToDatetime(tzinfo=datetime.timezone.utc).timestamp() - killed_at[0]
    assert aborted_after < 5.5
