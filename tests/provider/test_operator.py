"""FlyteOperator through dag.test() against the local admin over real gRPC."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

from airflow_provider_flyte.naming import execution_name
from tests.airflow_runs import run_dag, task_instance, xcom
from tests.conftest import REPO
from tests.provider.dags import single_launch_dag
from tests.waiting import Phase, running_execution


def test_operator_returns_the_deterministic_execution_name_as_xcom(airflow_db, flyte_conn, flyte_admin):
    run = run_dag(single_launch_dag("op_xcom", "simple.double_wf", {"x": 21}))

    assert run.state == "success"
    name = xcom(run, "launch")
    assert name == execution_name("op_xcom", run.run_id, "launch", -1)
    assert flyte_admin.get_execution(name).closure.phase == Phase.SUCCEEDED


def test_operator_pushes_outputs_as_json_values(airflow_db, flyte_conn):
    run = run_dag(single_launch_dag("op_outputs", "simple.summarize_wf", {"values": [1, 2, 3], "tags": {"b": "2", "a": "1"}}))

    assert xcom(run, "launch", key="outputs") == {"o0": {"total": 6, "mean": 2.0, "labels": ["a", "b"]}}


def test_optional_inputs_take_the_launch_plan_defaults(airflow_db, flyte_conn):
    run = run_dag(single_launch_dag("op_defaults", "simple.double_wf"))

    assert xcom(run, "launch", key="outputs") == {"o0": 2}


def test_failed_execution_fails_the_task_with_the_flyte_error(airflow_db, flyte_conn, flyte_admin, capfd):
    run = run_dag(single_launch_dag("op_fails", "simple.failing_wf", {"message": "bad batch 17"}))

    assert run.state == "failed"
    assert task_instance(run, "launch").state == "failed"
    name = execution_name("op_fails", run.run_id, "launch", -1)
    execution = flyte_admin.get_execution(name)
    assert execution.closure.phase == Phase.FAILED
    assert "bad batch 17" in execution.closure.error.message
    task_log = "".join(capfd.readouterr())
    assert "FlyteExecutionFailed" in task_log and "bad batch 17" in task_log and "kind=USER" in task_log


def test_task_timeout_terminates_the_execution_through_on_kill(airflow_db, flyte_conn, flyte_admin):
    dag = single_launch_dag(
        "op_exec_timeout", "simple.sleepy_wf", {"seconds": 60.0}, execution_timeout=timedelta(seconds=4)
    )

    run = run_dag(dag)

    assert run.state == "failed"
    name = execution_name("op_exec_timeout", run.run_id, "launch", -1)
    execution = flyte_admin.wait_for_phase(name, {Phase.ABORTED}, timeout=30)
    assert f"task op_exec_timeout.launch try 1 (run {run.run_id}) was stopped" in execution.closure.abort_metadata.cause


def test_sigterm_to_the_task_process_aborts_the_flyte_execution(airflow_db, flyte_conn, flyte_admin):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.provider.kill_target", "op_sigterm"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        running = running_execution(flyte_admin, lambda name: name.startswith("af-op-sigterm"))
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    execution = flyte_admin.wait_for_phase(running.id.name, {Phase.ABORTED}, timeout=30)
    assert "op_sigterm.launch" in execution.closure.abort_metadata.cause
    assert "DAG RUN STATE failed" in out
