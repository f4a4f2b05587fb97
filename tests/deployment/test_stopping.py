"""Stopping Airflow stops Flyte, on every path, at scale.

Once Airflow has stopped a task instance (marked failed/success, its run marked failed, the
run's ``dagrun_timeout``), the execution it owns is terminated within 30 s with the
``Stopped by Airflow:`` cause, however many stop at once and whichever process learns of it
first: the triggerer (``on_kill``), the task's process, or the API server / scheduler
(``airflow_provider_flyte.stopping``). And nothing Airflow did not stop is ever terminated.
Each scenario prints terminated / owed and the p50 and max delay.
"""

from __future__ import annotations

import datetime
import signal
import statistics
import time

import pytest

from airflow_provider_flyte.phases import AIRFLOW_ABORT_PREFIX
from tests.airflow_processes import wait_for
from tests.deployment.harness import LOAD_DAG, Phase, new_run_id, record_figure, task_names, wall_time

pytestmark = [pytest.mark.timeout(600)]

LONG = 600.0  # workflows that would outlive every scenario unless stopped
WITHIN = 30.0


def _aborted_at(execution) -> float:
    return execution.closure.updated_at.ToDatetime(tzinfo=datetime.timezone.utc).timestamp()


def assert_all_stopped(deployment, run_id: str, stopped_at: float, what: str, *, at_least: int = 1) -> list:
    """Every execution of the run ABORTED with Airflow's cause, each within 30 s of the stop."""

    def settled():
        executions = deployment.run_executions(run_id)
        done = [e for e in executions if e.closure.phase == Phase.ABORTED]
        return executions if executions and len(done) == len(executions) else None

    try:
        executions = wait_for(f"every execution of {run_id} to be ABORTED", settled, WITHIN + 30, every=0.5)
    except AssertionError:
        executions = deployment.run_executions(run_id)
    aborted = [e for e in executions if e.closure.phase == Phase.ABORTED]
    delays = sorted(max(0.0, _aborted_at(e) - stopped_at) for e in aborted)
    p50 = statistics.median(delays) if delays else float("nan")
    record_figure(
        f"{what}: terminated {len(aborted)} / owed {len(executions)}, "
        f"delay p50 {p50:.1f} s, max {max(delays, default=float('nan')):.1f} s"
    )
    running = {e.id.name: Phase.Name(e.closure.phase) for e in executions if e.closure.phase != Phase.ABORTED}
    assert not running, f"left running after the stop: {running}"
    assert len(executions) >= at_least
    causes = {e.closure.abort_metadata.cause for e in aborted}
    assert all(c.startswith(AIRFLOW_ABORT_PREFIX) for c in causes), causes
    assert delays[-1] <= WITHIN, f"slowest termination took {delays[-1]:.1f} s"
    return executions


def start_load(airflow, run_id: str, deferred: int, seconds: float = LONG, blocking: int = 0) -> None:
    airflow.trigger_dag(LOAD_DAG, run_id, {"deferred": deferred, "blocking": blocking, "seconds": seconds})


def test_a_run_of_100_deferred_tasks_marked_failed_stops_every_execution(deployment):
    airflow = deployment.airflow
    run_id = new_run_id("stop-run")
    with wall_time("100 deferred, run marked failed"):
        start_load(airflow, run_id, 100)
        airflow.wait_for_tis(run_id, {"deferred"}, 100, timeout=300, task_id="deferred")
        stopped_at = time.time()
        airflow.patch_run(run_id, "failed")
        assert_all_stopped(deployment, run_id, stopped_at, "100 deferred, run marked failed", at_least=100)


def test_a_run_marked_failed_while_its_tasks_are_still_launching_stops_every_execution(deployment):
    airflow = deployment.airflow
    run_id = new_run_id("stop-launching")
    with wall_time("100 deferred, run marked failed while launching"):
        start_load(airflow, run_id, 100)
        wait_for("the first executions", lambda: len(deployment.run_executions(run_id)) >= 5, 300, every=0.2)
        stopped_at = time.time()
        airflow.patch_run(run_id, "failed")
        launched_before = len(deployment.run_executions(run_id))
        time.sleep(10)  # tasks that were already starting may still launch
        executions = assert_all_stopped(deployment, run_id, stopped_at, "100 deferred, marked failed while launching")
    record_figure(f"launched before the stop: {launched_before}, after: {len(executions) - launched_before}")


def test_a_run_marked_failed_with_no_triggerer_running_stops_every_execution(deployment):
    airflow = deployment.airflow
    run_id = new_run_id("stop-no-triggerer")
    with wall_time("100 deferred, no triggerer, run marked failed"):
        for name in airflow.triggerers():
            airflow.stop(name)
        start_load(airflow, run_id, 100)
        airflow.wait_for_tis(run_id, {"deferred"}, 100, timeout=300, task_id="deferred")
        stopped_at = time.time()
        airflow.patch_run(run_id, "failed")
        assert_all_stopped(deployment, run_id, stopped_at, "100 deferred, no triggerer", at_least=100)


def test_one_task_instance_marked_failed_stops_only_its_execution(deployment):
    airflow, admin = deployment.airflow, deployment.admin
    run_id = new_run_id("stop-one")
    names = task_names(LOAD_DAG, run_id, "deferred", range(5))
    (target,) = task_names(LOAD_DAG, run_id, "deferred", [2])
    with wall_time("one of 5 deferred task instances marked failed"):
        start_load(airflow, run_id, 5, seconds=25.0)
        airflow.wait_for_tis(run_id, {"deferred"}, 5, timeout=180, task_id="deferred")
        stopped_at = time.time()
        airflow.patch_ti(run_id, "deferred", "failed", map_index=2)
        execution = admin.wait_for_phase(target, {Phase.ABORTED}, timeout=WITHIN + 15)
        delay = _aborted_at(execution) - stopped_at
        record_figure(f"one task instance marked failed: terminated 1 / owed 1, delay {delay:.1f} s")
        assert execution.closure.abort_metadata.cause.startswith(AIRFLOW_ABORT_PREFIX) and delay <= WITHIN
        assert airflow.wait_for_run(run_id, timeout=180) == "failed"
    others = names - {target}
    assert deployment.phases(others) == {"SUCCEEDED": 4}
    assert deployment.ever_aborted(others) == {}


def test_a_dagrun_timeout_over_deferred_tasks_stops_every_execution(deployment):
    from tests.deployment.dags.flyte_stop_timeout import DAG_ID, TIMEOUT, WAITS

    airflow = deployment.airflow
    run_id = new_run_id("stop-timeout")
    with wall_time(f"dagrun_timeout over {WAITS} deferred tasks"):
        airflow.wait_for_dag(DAG_ID)
        airflow.trigger_dag(DAG_ID, run_id)
        airflow.wait_for_tis(run_id, {"deferred"}, WAITS, timeout=180, dag_id=DAG_ID)
        assert airflow.wait_for_run(run_id, timeout=TIMEOUT.total_seconds() + 120, dag_id=DAG_ID) == "failed"
        run = airflow.dag_run(run_id, dag_id=DAG_ID)
        timed_out_at = datetime.datetime.fromisoformat(run["end_date"].replace("Z", "+00:00")).timestamp()
        assert_all_stopped(deployment, run_id, timed_out_at, f"dagrun_timeout over {WAITS} deferred", at_least=WAITS)


def test_with_two_triggerers_one_killed_a_failed_run_stops_every_execution_once(deployment):
    airflow, admin = deployment.airflow, deployment.admin
    run_id = new_run_id("stop-two-triggerers")
    with wall_time("40 deferred over two triggerers, one killed, run marked failed"):
        airflow.start_triggerer()
        start_load(airflow, run_id, 40)
        airflow.wait_for_tis(run_id, {"deferred"}, 40, timeout=300, task_id="deferred")
        airflow.kill(airflow.triggerers()[0])
        stopped_at = time.time()
        airflow.patch_run(run_id, "failed")
        executions = assert_all_stopped(deployment, run_id, stopped_at, "two triggerers, one killed", at_least=40)
    names = [e.id.name for e in executions]
    assert len(names) == 40 and sorted(names) == sorted(task_names(LOAD_DAG, run_id, "deferred", range(40)))
    for name in names:
        history = [Phase.Name(p) for p in admin.phase_history(name)]
        assert history.count("ABORTED") == 1, (name, history)


def test_a_triggerer_restart_stops_nothing(deployment):
    airflow = deployment.airflow
    run_id = new_run_id("no-stop-restart")
    with wall_time("10 deferred, triggerer restarted"):
        start_load(airflow, run_id, 10, seconds=30.0)
        airflow.wait_for_tis(run_id, {"deferred"}, 10, timeout=180, task_id="deferred")
        for name in airflow.triggerers():
            airflow.restart(name, signal.SIGTERM)
        assert airflow.wait_for_run(run_id, timeout=240) == "success"
    names = task_names(LOAD_DAG, run_id, "deferred", range(10))
    assert deployment.phases(names) == {"SUCCEEDED": 10}
    assert deployment.ever_aborted(names) == {}


def test_a_cleared_task_recovers_and_its_new_try_is_never_stopped(deployment):
    airflow, admin = deployment.airflow, deployment.admin
    run_id = new_run_id("clear-recover")
    (first,) = task_names(LOAD_DAG, run_id, "deferred", [0])
    with wall_time("a deferred task cleared, then recovered"):
        # Long enough that the cleared try's trigger is cancelled (on_kill) while its execution
        # still runs, even on a loaded CI machine: 25 s was not, once.
        start_load(airflow, run_id, 3, seconds=45.0)
        airflow.wait_for_tis(run_id, {"deferred"}, 3, timeout=180, task_id="deferred")
        # Only a triggerer that runs the trigger can call on_kill when the task is cleared. After
        # the fault scenarios a trigger can sit for up to 30 s on a killed triggerer's job, which
        # still looks alive: clear once the live triggerer holds all three.
        live = airflow.wait_up("triggerer")["id"]
        wait_for(
            "the live triggerer to hold the three triggers",
            lambda: len(held := [job for _, job, _ in deployment.trigger_rows()]) >= 3 and set(held) == {live},
            120,
        )
        airflow.clear_tasks(run_id, [("deferred", 0)])
        assert airflow.wait_for_run(run_id, timeout=240) == "success"
    ti = airflow.task_instance(run_id, "deferred", 0)
    assert ti["state"] == "success" and ti["try_number"] == 2
    stopped = admin.get_execution(first)
    assert stopped.closure.phase == Phase.ABORTED, f"clearing should have terminated {first}: {stopped.closure}"
    successor = admin.get_execution(first + "-r2")
    assert successor.closure.phase == Phase.SUCCEEDED
    assert deployment.ever_aborted([first + "-r2"]) == {}, "the new try's execution was never stopped"
