"""Flyte2Operator through dag.test() against the local Flyte 2 run service over real Connect."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from airflow_provider_flyte.flyte2.hook import Flyte2Hook
from airflow_provider_flyte.flyte2.operator import BASE_NAME_LENGTH
from airflow_provider_flyte.naming import execution_name
from tests.airflow_runs import run_dag, task_instance, xcom
from tests.conftest import DOMAIN, PROJECT
from tests.flyte2.conftest import run_names
from tests.flyte2.dags import flyte2_dag


def base_name(dag_id: str, run_id: str) -> str:
    return execution_name(dag_id, run_id, "run", -1, max_length=BASE_NAME_LENGTH)


def when_running(service, name: str, action) -> threading.Thread:
    """Run ``action()`` from a thread as soon as run ``name`` is RUNNING."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(r.name == name and r.phase == "RUNNING" for r in service.runs()):
                action()
                return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_the_task_returns_its_deterministic_run_name_and_pushes_the_outputs(airflow_db, flyte2_conn, flyte2_service):
    run = run_dag(flyte2_dag("f2_blocking", "provider.scale", {"values": [1, 2], "factor": 3}))

    assert run.state == "success"
    name = xcom(run, "run")
    assert name == base_name("f2_blocking", run.run_id) and len(name) <= 30
    assert flyte2_service.run(name).phase == "SUCCEEDED"
    assert xcom(run, "run", key="outputs") == {"o0": {"scaled-0": 3.0, "scaled-1": 6.0}}


def test_a_deferred_task_waits_in_the_trigger_and_pushes_the_outputs(airflow_db, flyte2_conn):
    run = run_dag(flyte2_dag("f2_deferred", "provider.nap", {"seconds": 1.0}, deferrable=True))

    assert run.state == "success"
    assert xcom(run, "run", key="outputs") == {"o0": "napped 1.0"}


def test_the_console_link_is_pushed_as_soon_as_the_run_exists(airflow_db, flyte2_conn, flyte2_service):
    run = run_dag(flyte2_dag("f2_link", "provider.scale", {"values": [1]}))

    name = xcom(run, "run")
    assert xcom(run, "run", key="_link_Flyte2RunLink") == f"{flyte2_service.url}/v2/domain/{DOMAIN}/project/{PROJECT}/runs/{name}"


def test_a_failed_run_fails_the_task_with_the_flyte_error(airflow_db, flyte2_conn, flyte2_service, capfd):
    run = run_dag(flyte2_dag("f2_fails", "provider.fail", {"message": "bad batch 17"}))

    assert run.state == "failed"
    assert flyte2_service.run(base_name("f2_fails", run.run_id)).phase == "FAILED"
    log = "".join(capfd.readouterr())
    assert "FlyteExecutionFailed" in log and "bad batch 17" in log and "kind=USER" in log


def test_a_wrong_input_fails_the_task_before_any_run_exists(airflow_db, flyte2_conn, flyte2_service, capfd):
    run = run_dag(flyte2_dag("f2_bad_input", "provider.scale", {"values": "1,2"}))

    assert run.state == "failed"
    assert base_name("f2_bad_input", run.run_id) not in run_names(flyte2_service)
    assert "Input 'values' of task flytesnacks/development/provider.scale@" in "".join(capfd.readouterr())


def test_killing_the_task_aborts_the_run(airflow_db, flyte2_conn, flyte2_service):
    run = run_dag(flyte2_dag("f2_killed", "provider.nap", {"seconds": 60.0}, execution_timeout=timedelta(seconds=5)))

    assert run.state == "failed"
    ended = flyte2_service.wait_for_phase(base_name("f2_killed", run.run_id), {"ABORTED"}, timeout=30)
    assert ended.abort_reason == f"Stopped by Airflow: task f2_killed.run try 1 (run {run.run_id}) was stopped"


def test_a_task_killed_while_its_create_run_is_in_flight_aborts_the_run_once_it_appears(
    airflow_db, flyte2_conn, flyte2_service, faults
):
    # The server creates the run 6 s after CreateRun arrives; the task is killed at 4 s, before it exists.
    faults.set_latency(6.0, method="CreateRun")
    dag = flyte2_dag("f2_kill_creating", "provider.nap", {"seconds": 60.0}, run_name="f2-kill-creating", execution_timeout=timedelta(seconds=4))

    run = run_dag(dag)

    assert run.state == "failed"
    ended = flyte2_service.wait_for_phase("f2-kill-creating", {"ABORTED"}, timeout=30)
    assert ended.abort_reason.startswith("Stopped by Airflow: task f2_kill_creating.run try 1")


def test_a_run_aborted_in_flyte_fails_the_task_with_the_cause_and_no_retry(airflow_db, flyte2_conn, flyte2_service, capfd):
    name = "f2-aborted-in-flyte"
    when_running(flyte2_service, name, lambda: Flyte2Hook(flyte2_conn).abort("", PROJECT, DOMAIN, name, "stopped in the console"))

    run = run_dag(flyte2_dag("f2_flyte_abort", "provider.nap", {"seconds": 60.0}, run_name=name, retries=2))

    assert run.state == "failed"
    assert task_instance(run, "run").try_number == 1
    log = "".join(capfd.readouterr())
    assert "FlyteExecutionAborted" in log and "stopped in the console" in log


def test_a_deferred_task_whose_run_is_aborted_in_flyte_fails_with_the_cause(airflow_db, flyte2_conn, flyte2_service, capfd):
    name = "f2-deferred-aborted"
    when_running(flyte2_service, name, lambda: Flyte2Hook(flyte2_conn).abort("", PROJECT, DOMAIN, name, "stopped by on-call"))

    run = run_dag(flyte2_dag("f2_deferred_abort", "provider.nap", {"seconds": 60.0}, run_name=name, deferrable=True))

    assert run.state == "failed"
    log = "".join(capfd.readouterr())
    assert "FlyteExecutionAborted" in log and "stopped by on-call" in log


def _create_then_lose_the_worker(context) -> None:
    """Try 1 creates its run (as the operator would name and label it), then its worker dies."""
    from airflow_provider_flyte.flyte2.messages import RunOptions
    from airflow_provider_flyte.labels import airflow_labels

    ti = context["ti"]
    if ti.try_number == 1:
        hook = Flyte2Hook("flyte2_conn")
        task = hook.resolve_task("", PROJECT, DOMAIN, "provider.nap")
        name = execution_name(ti.dag_id, ti.run_id, ti.task_id, -1, max_length=BASE_NAME_LENGTH)
        hook.launch(task, "", PROJECT, DOMAIN, name, {"seconds": 2.0}, RunOptions(labels=airflow_labels(ti)))
        raise RuntimeError("worker lost after CreateRun")


def test_a_retry_reattaches_to_the_run_an_earlier_try_created(airflow_db, flyte2_conn, flyte2_service):
    dag = flyte2_dag(
        "f2_reattach", "provider.nap", {"seconds": 2.0}, retries=1, retry_delay=timedelta(0), pre_execute=_create_then_lose_the_worker
    )

    run = run_dag(dag)

    assert run.state == "success"
    assert task_instance(run, "run").try_number == 2
    base = base_name("f2_reattach", run.run_id)
    assert xcom(run, "run") == base
    assert [n for n in run_names(flyte2_service) if n.startswith(base)] == [base]  # no second run


def test_a_run_airflow_aborted_is_run_again_by_the_next_try(airflow_db, flyte2_conn, flyte2_service):
    dag = flyte2_dag(
        "f2_rerun", "provider.nap", {"seconds": "{{ 60.0 if ti.try_number == 1 else 0.5 }}"},
        retries=1, retry_delay=timedelta(0), execution_timeout=timedelta(seconds=10), poll_interval=0.3,
    )

    run = run_dag(dag)

    assert run.state == "success"
    base = base_name("f2_rerun", run.run_id)
    assert xcom(run, "run") == base + "-r2"
    assert flyte2_service.run(base).abort_reason.startswith("Stopped by Airflow: ")
    assert xcom(run, "run", key="outputs") == {"o0": "napped 0.5"}


def test_the_operators_timeout_aborts_the_run(airflow_db, flyte2_conn, flyte2_service, capfd):
    run = run_dag(flyte2_dag("f2_timeout", "provider.nap", {"seconds": 60.0}, run_name="f2-own-timeout", timeout=2))

    assert run.state == "failed"
    assert "FlyteWaitTimeout" in "".join(capfd.readouterr())
    ended = flyte2_service.wait_for_phase("f2-own-timeout", {"ABORTED"}, timeout=30)
    assert "timed out after 2s" in ended.abort_reason


def test_a_deferred_tasks_timeout_aborts_the_run(airflow_db, flyte2_conn, flyte2_service, capfd):
    run = run_dag(flyte2_dag("f2_deferred_timeout", "provider.nap", {"seconds": 60.0}, run_name="f2-deferred-timeout", timeout=2, deferrable=True))

    assert run.state == "failed"
    assert "FlyteWaitTimeout" in "".join(capfd.readouterr())
    assert "timed out after 2s" in flyte2_service.wait_for_phase("f2-deferred-timeout", {"ABORTED"}, timeout=30).abort_reason


def test_each_map_index_gets_its_own_run(airflow_db, flyte2_conn, flyte2_service):
    from airflow.sdk import DAG

    from airflow_provider_flyte.flyte2.operator import Flyte2Operator
    from tests.flyte2.dags import START

    with DAG(dag_id="f2_mapped", schedule=None, start_date=START, catchup=False) as dag:
        Flyte2Operator.partial(task_id="run", flyte2_conn_id="flyte2_conn", task_name="provider.scale").expand(
            inputs=[{"values": [1]}, {"values": [2]}]
        )

    run = run_dag(dag)

    assert run.state == "success"
    names = [xcom(run, "run", map_index=i) for i in (0, 1)]
    assert names == [execution_name("f2_mapped", run.run_id, "run", i, max_length=BASE_NAME_LENGTH) for i in (0, 1)]
    assert [xcom(run, "run", key="outputs", map_index=i) for i in (0, 1)] == [{"o0": {"scaled-0": 2.0}}, {"o0": {"scaled-0": 4.0}}]


def test_a_static_run_name_another_task_instance_created_is_refused(airflow_db, flyte2_conn, flyte2_service, capfd):
    first = run_dag(flyte2_dag("f2_static_a", "provider.scale", {"values": [1]}, run_name="f2-static-name"))
    assert first.state == "success"

    second = run_dag(flyte2_dag("f2_static_b", "provider.scale", {"values": [1]}, run_name="f2-static-name"))

    assert second.state == "failed"
    assert "Flyte 2 run 'f2-static-name' belongs to another task instance" in "".join(capfd.readouterr())


def test_an_earlier_tries_kill_landing_on_the_reattached_run_runs_the_task_again(airflow_db, flyte2_conn, flyte2_service):
    from airflow_provider_flyte.phases import airflow_abort_cause

    def abort_once_try_two_runs() -> None:
        from airflow.models import TaskInstance
        from airflow.utils.session import create_session

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with create_session() as session:
                ti = session.query(TaskInstance).filter_by(dag_id="f2_late_kill", task_id="run").one_or_none()
                running_again = ti is not None and ti.try_number == 2 and ti.state == "running"
            if running_again:
                time.sleep(0.5)
                name = execution_name("f2_late_kill", ti.run_id, "run", -1, max_length=BASE_NAME_LENGTH)
                Flyte2Hook(flyte2_conn).abort("", PROJECT, DOMAIN, name, airflow_abort_cause("task try 1 was stopped"))
                return
            time.sleep(0.05)

    killer = threading.Thread(target=abort_once_try_two_runs, daemon=True)
    killer.start()
    dag = flyte2_dag(
        "f2_late_kill", "provider.nap", {"seconds": "{{ 30.0 if ti.try_number == 1 else 0.5 }}"},
        retries=1, retry_delay=timedelta(0), pre_execute=_create_long_nap_then_lose_the_worker, poll_interval=0.3,
    )

    run = run_dag(dag)
    killer.join(timeout=5)

    assert run.state == "success"
    assert xcom(run, "run") == base_name("f2_late_kill", run.run_id) + "-r2"
    assert xcom(run, "run", key="outputs") == {"o0": "napped 0.5"}


def _create_long_nap_then_lose_the_worker(context) -> None:
    from airflow_provider_flyte.flyte2.messages import RunOptions
    from airflow_provider_flyte.labels import airflow_labels

    ti = context["ti"]
    if ti.try_number == 1:
        hook = Flyte2Hook("flyte2_conn")
        name = execution_name(ti.dag_id, ti.run_id, ti.task_id, -1, max_length=BASE_NAME_LENGTH)
        hook.launch(hook.resolve_task("", PROJECT, DOMAIN, "provider.nap"), "", PROJECT, DOMAIN, name, {"seconds": 30.0}, RunOptions(labels=airflow_labels(ti)))
        raise RuntimeError("worker lost after CreateRun")


def test_sigterm_to_the_task_process_aborts_the_run(airflow_db, flyte2_conn, flyte2_service):
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import REPO

    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.flyte2.kill_target", "f2_sigterm"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        running = None
        while running is None and time.monotonic() < deadline:
            running = next((r for r in flyte2_service.runs() if r.name.startswith("af-f2-si") and r.phase == "RUNNING"), None)
            time.sleep(0.05)
        assert running is not None, "the DAG's run never ran"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()

    ended = flyte2_service.wait_for_phase(running.name, {"ABORTED"}, timeout=30)
    assert "f2_sigterm.run" in (ended.abort_reason or "")
    assert "DAG RUN STATE failed" in out
