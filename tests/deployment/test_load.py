"""Load: one run of 40 deferrable and 5 blocking FlyteOperator tasks through the whole deployment.

Every task instance launches exactly one Flyte execution (named after it, labelled with the run)
and succeeds; nothing is ever aborted. The deferred ones wait in the triggerer, the blocking ones
in LocalExecutor worker slots, all against a FlyteAdmin that asks for OAuth2 client credentials.
"""

from __future__ import annotations

import pytest

from tests.deployment.harness import AIRFLOW_PARALLELISM, LOAD_DAG, Phase, new_run_id, task_names, wall_time

pytestmark = [pytest.mark.timeout(600)]

DEFERRED, BLOCKING, SECONDS = 40, 5, 15.0


def test_forty_deferred_and_five_blocking_tasks_each_run_one_execution(deployment):
    airflow, admin = deployment.airflow, deployment.admin
    run_id = new_run_id("load")
    lists_before, tokens_before = admin.rpc_counts.get("ListExecutions", 0), admin.tokens.requests

    with wall_time(f"load run ({DEFERRED} deferred + {BLOCKING} blocking, {SECONDS:.0f} s workflows)"):
        airflow.trigger_dag(LOAD_DAG, run_id, {"deferred": DEFERRED, "blocking": BLOCKING, "seconds": SECONDS})
        state, peaks = airflow.follow_run(run_id, timeout=300)
    tis = airflow.task_instances(run_id)
    print(f"[deployment] load run {run_id}: most task instances at once per state {dict(peaks)}")

    not_ok = [(ti["task_id"], ti["map_index"], ti["state"]) for ti in tis if ti["state"] != "success"]
    assert state == "success" and not not_ok, f"run {state}; not successful: {not_ok}"
    by_task = {t: sorted(ti["map_index"] for ti in tis if ti["task_id"] == t) for t in ("deferred", "blocking")}
    assert by_task == {"deferred": list(range(DEFERRED)), "blocking": list(range(BLOCKING))}
    assert all(ti["try_number"] == 1 for ti in tis), "no task needed a retry"

    expected = task_names(LOAD_DAG, run_id, "deferred", range(DEFERRED)) | task_names(
        LOAD_DAG, run_id, "blocking", range(BLOCKING)
    )
    labelled = [e.id.name for e in deployment.run_executions(run_id)]
    assert len(labelled) == DEFERRED + BLOCKING, f"{len(labelled)} executions labelled with {run_id}"
    assert set(labelled) == expected, "one execution per task instance, named after it"
    assert deployment.phases(expected) == {Phase.Name(Phase.SUCCEEDED): DEFERRED + BLOCKING}
    assert deployment.ever_aborted(expected) == {}, "no execution was ever ABORTING or ABORTED"

    # More tasks waited at once than there are worker slots: the deferred ones waited in the
    # triggerer, served by its batched ListExecutions, with real tokens.
    assert peaks["deferred"] > AIRFLOW_PARALLELISM, dict(peaks)
    assert admin.rpc_counts.get("ListExecutions", 0) > lists_before
    assert admin.tokens.requests > tokens_before
