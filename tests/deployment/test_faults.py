"""Faults a deployment goes through, mid-run: every task still succeeds, each task instance runs one
Flyte execution, and nothing is ever aborted.

- a triggerer SIGKILLed while most tasks are deferred, a new one started (its successor takes the
  triggers once the dead one's heartbeat is ``[triggerer] triggerer_health_check_threshold`` old);
- two triggerers, the one holding most triggers SIGKILLed: the survivor takes them over;
- the scheduler SIGKILLed (with its LocalExecutor workers: the blocking tasks die with it) and
  started again once Airflow sees it dead: its running task instances are reset and their new try
  reattaches to the same execution;
- FlyteAdmin unreachable for 30 s mid-wait (its port closed and reopened at the same address, as a
  FlyteAdmin restarting behind a stable address looks to clients; the executions keep running);
- the identity provider down for 60 s with every issued token expired at its start, so each
  waiter's next call needs a refresh that is refused until it comes back;
- clearing succeeded FlyteOperator tasks: their executions' outputs are reused, nothing is launched.

Each checks what a user would: the run and every task instance succeeded, and from FlyteAdmin's
own records, one execution per task instance (named after it), all SUCCEEDED, none ever
ABORTING or ABORTED. Each prints its wall time.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from tests.airflow_processes import wait_for
from tests.deployment.harness import LOAD_DAG, Phase, new_run_id, task_names, wall_time

pytestmark = [pytest.mark.timeout(600)]

RUN_TIMEOUT = 300.0  # a whole run, with the fault, on 2 busy cores
LAUNCH_TIMEOUT = 240.0  # until the tasks wait


def start_load(airflow, run_id: str, deferred: int, blocking: int, seconds: float) -> None:
    airflow.trigger_dag(LOAD_DAG, run_id, {"deferred": deferred, "blocking": blocking, "seconds": seconds})


def expected_names(run_id: str, deferred: int, blocking: int) -> set[str]:
    return task_names(LOAD_DAG, run_id, "deferred", range(deferred)) | task_names(
        LOAD_DAG, run_id, "blocking", range(blocking)
    )


def wait_all_waiting(deployment, run_id: str, deferred: int, blocking: int) -> None:
    """Every task has launched its execution and waits: the deferred ones in a triggerer, the
    blocking ones in a worker slot (so a fault that starts now hits waits, not launches)."""
    airflow = deployment.airflow
    names = expected_names(run_id, deferred, blocking)

    def check() -> bool:
        nothing_failed(airflow, run_id)
        launched = {e.id.name for e in deployment.run_executions(run_id)}
        if not names <= launched:
            return False
        states = Counter((ti["task_id"], ti["state"]) for ti in airflow.task_instances(run_id))
        return states[("deferred", "deferred")] == deferred and states[("blocking", "running")] == blocking

    wait_for(f"all {deferred + blocking} tasks of {run_id} launched and waiting", check, LAUNCH_TIMEOUT)


def wait_deferred(airflow, run_id: str, count: int) -> None:
    """Until at least ``count`` of the run's ``deferred`` task instances are deferred (most of them,
    while none has finished yet); fails at once if a task instance fails meanwhile."""

    def check() -> bool:
        nothing_failed(airflow, run_id)
        return airflow.ti_states(run_id, task_id="deferred")["deferred"] >= count

    wait_for(f"{count} deferred task instances in {run_id}", check, LAUNCH_TIMEOUT)


def assert_each_succeeded_once(deployment, run_id: str, deferred: int, blocking: int, *, retries: bool = False) -> list:
    """The run and every task instance succeeded; one SUCCEEDED execution per task instance, named
    after it; none ever ABORTING/ABORTED. ``retries``: a task instance may have needed a new try
    (which must have reattached: no other execution). Returns the task instances."""
    airflow = deployment.airflow
    assert airflow.run_state(run_id) == "success", f"run {run_id} is {airflow.run_state(run_id)}"
    tis = airflow.task_instances(run_id)
    if not blocking:  # a task mapped over an empty list is one skipped task instance
        empty = [(ti["task_id"], ti["map_index"], ti["state"]) for ti in tis if ti["task_id"] == "blocking"]
        assert empty == [("blocking", -1, "skipped")], empty
        tis = [ti for ti in tis if ti["task_id"] != "blocking"]
    not_ok = [(ti["task_id"], ti["map_index"], ti["state"]) for ti in tis if ti["state"] != "success"]
    assert not not_ok, f"task instances not successful: {not_ok}"
    by_task = {t: sorted(ti["map_index"] for ti in tis if ti["task_id"] == t) for t in ("deferred", "blocking")}
    assert by_task == {"deferred": list(range(deferred)), "blocking": list(range(blocking))}
    tries = Counter(ti["try_number"] for ti in tis)
    print(f"[deployment] {run_id}: task instances per try number {dict(sorted(tries.items()))}")
    if not retries:
        assert set(tries) == {1}, f"no task needed another try: {dict(tries)}"

    expected = expected_names(run_id, deferred, blocking)
    labelled = sorted(e.id.name for e in deployment.run_executions(run_id))
    assert len(labelled) == deferred + blocking, f"{len(labelled)} executions labelled {run_id}: {labelled}"
    assert set(labelled) == expected, f"not one execution per task instance: {sorted(set(labelled) ^ expected)}"
    assert deployment.phases(expected) == {Phase.Name(Phase.SUCCEEDED): deferred + blocking}
    assert deployment.ever_aborted(expected) == {}, "no execution was ever ABORTING or ABORTED"
    return tis


def nothing_failed(airflow, run_id: str) -> bool:
    """True, or AssertionError naming the task instances that failed (or wait for a retry)."""
    failed = airflow.task_instances(run_id, states=("failed", "up_for_retry", "upstream_failed"))
    assert not failed, f"failed during the fault: {[(ti['task_id'], ti['map_index'], ti['state']) for ti in failed]}"
    return True


def finish_without_failures(airflow, run_id: str, timeout: float = RUN_TIMEOUT) -> str:
    """Wait for the run to finish, failing as soon as one of its task instances fails; its state."""

    def check() -> str | None:
        nothing_failed(airflow, run_id)
        state = airflow.run_state(run_id)
        return state if state in ("success", "failed") else None

    return wait_for(f"run {run_id} to finish", check, timeout, every=2.0)


def triggers_by_job(deployment) -> Counter:
    return Counter(job for _, job, _ in deployment.trigger_rows())


def wait_triggers_left(deployment, job_id: int, timeout: float = 150.0) -> float:
    """Until no trigger is assigned to (dead) triggerer job ``job_id``; the seconds it took."""
    started = time.monotonic()
    wait_for(
        f"the triggers of triggerer job {job_id} to move", lambda: triggers_by_job(deployment)[job_id] == 0, timeout
    )
    return time.monotonic() - started


# --- triggerers ----------------------------------------------------------------------------


def test_triggerer_killed_while_tasks_are_deferred_a_new_one_finishes_them(deployment):
    deferred, blocking, seconds = 12, 0, 40.0
    airflow = deployment.airflow
    run_id = new_run_id("fault-triggerer")
    with wall_time(f"triggerer SIGKILLed over {deferred} deferred, a new one started"):
        start_load(airflow, run_id, deferred, blocking, seconds)
        wait_deferred(airflow, run_id, deferred - 2)
        dead_job = airflow.triggerer_job("triggerer")["id"]
        held = wait_for("the deferred tasks' triggers to be assigned", lambda: triggers_by_job(deployment)[dead_job])
        airflow.kill("triggerer")
        airflow.start_again("triggerer")
        airflow.wait_up("triggerer")
        moved = wait_triggers_left(deployment, dead_job)
        print(f"[deployment] killed triggerer held {held} triggers; the new one took them over after {moved:.0f} s")
        assert finish_without_failures(airflow, run_id) == "success"
    assert_each_succeeded_once(deployment, run_id, deferred, blocking)


def test_two_triggerers_one_killed_the_other_takes_over_its_triggers(deployment):
    deferred, blocking, seconds = 16, 0, 40.0
    airflow = deployment.airflow
    run_id = new_run_id("fault-two-triggerers")
    with wall_time(f"two triggerers, the one holding most of {deferred} deferred SIGKILLed"):
        airflow.start_triggerer()
        airflow.wait_up("triggerer-2")
        start_load(airflow, run_id, deferred, blocking, seconds)
        wait_deferred(airflow, run_id, deferred - 2)
        jobs = {name: airflow.triggerer_job(name)["id"] for name in ("triggerer", "triggerer-2")}

        def assigned() -> dict[str, int] | None:
            counts = triggers_by_job(deployment)
            held = {name: counts[job] for name, job in jobs.items()}
            return held if sum(held.values()) >= deferred - 2 else None

        held = wait_for("the deferred tasks' triggers to be assigned", assigned)
        victim = max(held, key=held.get)
        (survivor,) = set(jobs) - {victim}
        airflow.kill(victim)
        moved = wait_triggers_left(deployment, jobs[victim])
        print(f"[deployment] triggers per triggerer {held}; {victim} killed, {survivor} took them after {moved:.0f} s")
        assert airflow.triggerers() == [survivor]
        assert finish_without_failures(airflow, run_id) == "success"
    assert_each_succeeded_once(deployment, run_id, deferred, blocking)


# --- scheduler -----------------------------------------------------------------------------


def test_scheduler_killed_and_restarted_mid_run(deployment):
    deferred, blocking, seconds = 12, 2, 40.0
    airflow = deployment.airflow
    run_id = new_run_id("fault-scheduler")
    with wall_time(f"scheduler SIGKILLed over {deferred} deferred + {blocking} blocking, restarted"):
        start_load(airflow, run_id, deferred, blocking, seconds)
        wait_deferred(airflow, run_id, deferred - 2)
        airflow.wait_for_tis(run_id, {"running"}, blocking, timeout=LAUNCH_TIMEOUT, task_id="blocking")
        killed_at = time.monotonic()
        airflow.kill("scheduler")  # its process group: the LocalExecutor workers and their tasks too
        # Restarted once Airflow sees it dead (its heartbeat older than the health check threshold,
        # as a supervisor restarting it would): the new scheduler then resets the dead one's task
        # instances at start instead of waiting for the task heartbeat timeout.
        wait_for(
            "the killed scheduler to be reported unhealthy",
            lambda: ((airflow.health() or {}).get("scheduler") or {}).get("status") == "unhealthy",
            120,
        )
        airflow.start_again("scheduler")
        airflow.wait_up("scheduler")
        print(f"[deployment] scheduler down for {time.monotonic() - killed_at:.0f} s")
        assert finish_without_failures(airflow, run_id) == "success"
    assert_each_succeeded_once(deployment, run_id, deferred, blocking, retries=True)


# --- FlyteAdmin and its identity provider --------------------------------------------------


def test_flyte_admin_unreachable_mid_wait(deployment):
    deferred, blocking, seconds, outage = 12, 2, 45.0, 30.0
    airflow, admin = deployment.airflow, deployment.admin
    run_id = new_run_id("fault-admin")
    with wall_time(f"FlyteAdmin unreachable {outage:.0f} s over {deferred} deferred + {blocking} blocking waits"):
        start_load(airflow, run_id, deferred, blocking, seconds)
        wait_all_waiting(deployment, run_id, deferred, blocking)
        # Not a stop and start of the admin: a LocalFlyteAdmin's executions run in its own worker
        # processes and end ABORTED ("flyte-local-admin stopped") when it stops, and it would come
        # back on a new port. The port closed and reopened, executions running on, is what a
        # FlyteAdmin restarting behind its stable address looks like to the provider.
        admin.faults.outage(outage)
        wait_for(
            "the admin to serve again",
            lambda: nothing_failed(airflow, run_id) and admin.serving,
            outage + 30,
        )
        assert finish_without_failures(airflow, run_id) == "success"
    assert_each_succeeded_once(deployment, run_id, deferred, blocking)


def test_identity_provider_down_for_60_s_with_tokens_expired(deployment):
    deferred, blocking, seconds, outage = 12, 2, 45.0, 60.0
    airflow, admin = deployment.airflow, deployment.admin
    run_id = new_run_id("fault-idp")
    with wall_time(f"identity provider down {outage:.0f} s, tokens expired, {deferred} deferred + {blocking} blocking"):
        start_load(airflow, run_id, deferred, blocking, seconds)
        wait_all_waiting(deployment, run_id, deferred, blocking)
        requests_before, issued_before = admin.tokens.requests, admin.tokens.issued
        admin.tokens.outage(outage)  # first, so no token is issued after the expiry below
        admin.tokens.expire_all()  # every waiter's next call needs a new token, refused until the end
        started = time.monotonic()
        wait_for(
            "a new token, once the identity provider is back",
            lambda: nothing_failed(airflow, run_id) and admin.tokens.issued > issued_before,
            outage + 90,
        )
        refused = admin.tokens.requests - requests_before - (admin.tokens.issued - issued_before)
        print(
            f"[deployment] first token issued {time.monotonic() - started:.0f} s after the outage began; "
            f"token requests refused meanwhile: {refused}"
        )
        assert refused > 0, "the waiters needed a new token while the identity provider was down"
        assert finish_without_failures(airflow, run_id) == "success"
    assert_each_succeeded_once(deployment, run_id, deferred, blocking)


# --- clear ---------------------------------------------------------------------------------


def xcom(airflow, run_id: str, task_id: str, map_index: int, key: str):
    path = f"/api/v2/dags/{LOAD_DAG}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}?map_index={map_index}"
    return airflow.request("GET", path)["value"]


def test_clearing_succeeded_flyte_tasks_reuses_their_outputs_and_launches_nothing(deployment):
    deferred, blocking, seconds = 2, 1, 12.0
    airflow, admin = deployment.airflow, deployment.admin
    run_id = new_run_id("fault-clear")
    cleared = [("deferred", 1), ("blocking", 0)]
    launches = ("CreateExecution", "RecoverExecution", "RelaunchExecution")
    with wall_time("clear succeeded deferrable and blocking FlyteOperator tasks"):
        start_load(airflow, run_id, deferred, blocking, seconds)
        assert airflow.wait_for_run(run_id, timeout=RUN_TIMEOUT) == "success"
        assert_each_succeeded_once(deployment, run_id, deferred, blocking)
        before = {rpc: admin.rpc_counts.get(rpc, 0) for rpc in launches}
        outputs = {(t, i): xcom(airflow, run_id, t, i, "outputs") for t, i in cleared}
        names = {(t, i): xcom(airflow, run_id, t, i, "return_value") for t, i in cleared}

        airflow.clear_tasks(run_id, cleared)
        assert airflow.wait_for_run(run_id, timeout=RUN_TIMEOUT) == "success"
        wait_for(
            "the cleared task instances to have run again",
            lambda: all(
                (ti := airflow.task_instance(run_id, t, i)) and ti["try_number"] == 2 and ti["state"] == "success"
                for t, i in cleared
            ),
            60,
        )
    after = {rpc: admin.rpc_counts.get(rpc, 0) for rpc in launches}
    print(f"[deployment] launch RPCs before the clear {before}, after {after}")
    assert after == before, "clearing a succeeded task launched nothing"
    assert {(t, i): xcom(airflow, run_id, t, i, "outputs") for t, i in cleared} == outputs
    assert {(t, i): xcom(airflow, run_id, t, i, "return_value") for t, i in cleared} == names
    assert_each_succeeded_once(deployment, run_id, deferred, blocking, retries=True)
