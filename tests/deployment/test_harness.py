"""The harness's own levers, against the live deployment, so scenarios can rely on them.

Several triggerers known by name in the job table, the trigger table read from Postgres, paged
task instances, marking a deferred task instance failed, clearing it, freezing and killing a
triggerer, marking a run failed. Assertions are about the harness, not about the provider.
"""

from __future__ import annotations

import signal

import pytest

from tests.airflow_processes import wait_for
from tests.deployment.harness import LOAD_DAG, new_run_id

pytestmark = [pytest.mark.timeout(600)]


def test_the_levers_scenarios_pull(deployment):
    airflow = deployment.airflow

    second = airflow.start_triggerer()
    assert second.name == "triggerer-2"
    assert sorted(airflow.triggerers()) == ["triggerer", "triggerer-2"]
    jobs = wait_for(
        "both triggerers' jobs to heartbeat",
        lambda: (
            (jobs := {n: airflow.triggerer_job(n) for n in ("triggerer", "triggerer-2")})
            and all(j and j["state"] == "running" for j in jobs.values())
            and jobs
        ),
        60,
    )
    alive = {j["id"] for j in airflow.jobs("TriggererJob", alive=True)}
    assert {j["id"] for j in jobs.values()} <= alive

    run_id = new_run_id("harness")
    airflow.trigger_dag(LOAD_DAG, run_id, {"deferred": 3, "blocking": 0, "seconds": 600})
    airflow.wait_for_tis(run_id, {"deferred"}, 3, task_id="deferred", timeout=120)
    rows = wait_for(
        "the three triggers to be assigned to a triggerer",
        lambda: len(rows := deployment.trigger_rows()) == 3 and all(job for _, job, _ in rows) and rows,
        60,
    )
    # By name, a triggerer's job is the one its current process started, never the still-"running"
    # row a killed predecessor of the same name left behind (test_faults kills a "triggerer-2").
    assert {job for _, job, _ in rows} <= {j["id"] for j in jobs.values()}, (rows, airflow.jobs("TriggererJob"))

    every = airflow.task_instances(run_id)
    assert [ti["id"] for ti in airflow.task_instances(run_id, page_size=2)] == [ti["id"] for ti in every]
    assert sorted(ti["map_index"] for ti in every if ti["task_id"] == "deferred") == [0, 1, 2]
    assert airflow.ti_states(run_id, task_id="deferred") == {"deferred": 3}

    marked = airflow.patch_ti(run_id, "deferred", "failed", map_index=0)
    assert [(ti["map_index"], ti["state"]) for ti in marked] == [(0, "failed")]
    assert airflow.ti_state(run_id, "deferred", 0) == "failed"
    cleared = airflow.clear_tasks(run_id, [("deferred", 0)])
    assert [(ti["task_id"], ti["map_index"]) for ti in cleared] == [("deferred", 0)]
    wait_for(
        "the cleared task instance to leave 'failed'", lambda: airflow.ti_state(run_id, "deferred", 0) != "failed", 30
    )

    airflow.signal("triggerer-2", signal.SIGSTOP)  # frozen: alive, but no heartbeat
    airflow.signal("triggerer-2", signal.SIGCONT)
    killed = airflow.kill("triggerer-2")
    assert not killed.alive() and airflow.triggerers() == ["triggerer"]

    airflow.patch_run(run_id, "failed")
    assert airflow.run_state(run_id) == "failed"
    assert airflow.health()["metadatabase"]["status"] == "healthy"
