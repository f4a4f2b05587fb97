"""A deferred FlyteOperator through real Airflow 3 processes (not ``dag.test()``).

One set of processes for the module: ``api-server``, ``scheduler`` (LocalExecutor), ``dag-processor``
and ``triggerer``, on SQLite in a throwaway AIRFLOW_HOME that only they see, plus a LocalFlyteAdmin
of our own in this process. The DAG is ``dags/flyte_real_triggerer.py``; each test triggers its
own run through the REST API and reads the task and the Flyte execution back.
"""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from airflow_provider_flyte.naming import execution_name
from airflow_provider_flyte.phases import AIRFLOW_ABORT_PREFIX
from tests.airflow_processes import BIN, Airflow, _free_port, _wait_for, airflow_env
from tests.waiting import Phase

pytestmark = [pytest.mark.timeout(400)]

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORKFLOWS = REPO / "tests" / "workflows" / "simple.py"
DAG_ID = "flyte_real_triggerer"
TASK_ID = "train"

# flyteidl WorkflowExecution.Phase


@pytest.fixture(scope="module")
def admin():
    from airflow_provider_flyte.local_admin import LocalFlyteAdmin

    with LocalFlyteAdmin(
        workflows=[WORKFLOWS], project="flytesnacks", domain="development", port=0, parallelism=24
    ) as local:
        yield local


@pytest.fixture(scope="module")
def airflow(admin):
    home = Path(tempfile.mkdtemp(prefix="airflow-system-"))
    host, port = admin.endpoint.rsplit(":", 1)
    api_port = _free_port()
    api = f"http://127.0.0.1:{api_port}"
    connection = {
        "conn_type": "flyte",
        "host": host,
        "port": int(port),
        "extra": {"insecure": True, "project": "flytesnacks", "domain": "development"},
    }
    env = airflow_env(home, api_port, HERE / "dags", settings={"AIRFLOW_CONN_FLYTE_CONN": json.dumps(connection)})
    subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
    )
    cluster = Airflow(home, env, api, dag_id=DAG_ID, task_id=TASK_ID)
    try:
        cluster.start("api-server", "--port", str(api_port), "--host", "127.0.0.1")
        cluster.start("dag-processor")
        cluster.start("scheduler", "--skip-serve-logs")
        cluster.start("triggerer", "--skip-serve-logs")
        cluster.wait_for_dag(DAG_ID)
        yield cluster
    except BaseException:
        print(cluster.diagnostics())
        raise
    finally:
        cluster.stop_all()
        shutil.rmtree(home, ignore_errors=True)


def _phase(admin, name: str) -> int:
    return admin.get_execution(name).closure.phase


def _status_polls(admin) -> int:
    return admin.rpc_counts.get("ListExecutions", 0)


def _wait_for_trigger_polling(admin, name: str, timeout: float = 90.0) -> None:
    """While the task is deferred only the triggerer's watcher lists executions: wait for a few
    of its ListExecutions calls (poll_interval=1) so we know a triggerer really runs the trigger."""
    before = _status_polls(admin)
    _wait_for(f"a triggerer to poll {name}", lambda: _status_polls(admin) >= before + 2, timeout, every=0.5)


def _runs_executions(admin, run_id: str) -> list[str]:
    return [e.id.name for e in admin.executions() if e.spec.labels.values.get("airflow-run-id") == run_id]


def test_deferred_task_survives_triggerer_restart_without_terminating_execution(airflow, admin):
    run_id = f"restart-{secrets.token_hex(4)}"
    name = execution_name(DAG_ID, run_id, TASK_ID)
    try:
        airflow.ensure_triggerer()
        airflow.trigger(run_id, seconds=45.0)
        airflow.wait_for_ti(run_id, {"deferred"})
        _wait_for_trigger_polling(admin, name)

        # SIGTERM: the triggerer shuts down gracefully, cancelling its running trigger without on_kill.
        airflow.restart_triggerer(signal.SIGTERM)
        assert _phase(admin, name) == Phase.RUNNING, "the old triggerer's shutdown must leave the execution running"
        assert airflow.ti_state(run_id) == "deferred"
        _wait_for_trigger_polling(admin, name)
        assert _phase(admin, name) == Phase.RUNNING, "the new triggerer must pick the wait up while the execution runs"

        assert airflow.wait_for_run(run_id) == "success"
        assert airflow.ti_state(run_id) == "success"
        execution = admin.get_execution(name)
        assert execution.closure.phase == Phase.SUCCEEDED
        assert Phase.ABORTING not in admin.phase_history(name) and Phase.ABORTED not in admin.phase_history(name)
        assert not execution.closure.abort_metadata.cause
        assert _runs_executions(admin, run_id) == [name], "no second execution was launched"
    except BaseException:
        print(airflow.diagnostics())
        raise


def test_marking_deferred_task_failed_aborts_flyte_execution(airflow, admin):
    run_id = f"markfailed-{secrets.token_hex(4)}"
    name = execution_name(DAG_ID, run_id, TASK_ID)
    try:
        airflow.ensure_triggerer()
        airflow.trigger(run_id, seconds=600.0)
        airflow.wait_for_ti(run_id, {"deferred"})
        # Airflow calls on_kill only on a trigger a triggerer is running; marking the task failed
        # before a triggerer picked the trigger up leaves the execution alone.
        _wait_for_trigger_polling(admin, name)
        assert _phase(admin, name) == Phase.RUNNING

        airflow.request(
            "PATCH",
            f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{TASK_ID}",
            {"new_state": "failed"},
        )

        execution = admin.wait_for_phase(name, {Phase.ABORTED}, timeout=60)
        cause = execution.closure.abort_metadata.cause
        assert cause.startswith(AIRFLOW_ABORT_PREFIX), cause
        assert f"{DAG_ID}.{TASK_ID} try 1 (run {run_id})" in cause
        assert airflow.ti_state(run_id) == "failed"
        assert _runs_executions(admin, run_id) == [name]
    except BaseException:
        print(airflow.diagnostics())
        raise


def test_many_deferred_tasks_are_watched_together_by_one_triggerer(airflow, admin):
    from tests.system.dags.flyte_many_deferred import WAITS

    dag_id, run_id = "flyte_many_deferred", f"many-{secrets.token_hex(4)}"
    try:
        airflow.ensure_triggerer()
        airflow.wait_for_dag(dag_id)
        lists, gets = admin.rpc_counts.get("ListExecutions", 0), admin.rpc_counts.get("GetExecution", 0)
        airflow.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"dag_run_id": run_id, "logical_date": None})

        state = _wait_for(
            f"dag run {run_id} to finish",
            lambda: (run := airflow.get_or_none(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")) and run["state"] in ("success", "failed") and run["state"],
            300,  # twenty tasks through four LocalExecutor slots, on a CI machine running another Airflow
        )
        tis = airflow.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]

        assert state == "success", [(ti["map_index"], ti["state"]) for ti in tis]
        assert sorted(ti["map_index"] for ti in tis if ti["state"] == "success") == list(range(WAITS))
        names = {execution_name(dag_id, run_id, "train", i) for i in range(WAITS)}
        assert set(_runs_executions(admin, run_id)) == names, "one execution per map index, no more"
        assert admin.rpc_counts.get("ListExecutions", 0) > lists, "the triggerer polled with ListExecutions"
        # Each task reads its execution a few times around launching and finishing; the waiting in
        # between is the watcher's. Per-wait polling would be dozens of GetExecution calls each.
        assert admin.rpc_counts.get("GetExecution", 0) - gets <= 6 * WAITS
    except BaseException:
        print(airflow.diagnostics())
        for log in sorted((airflow.home / "logs").glob(f"dag_id={dag_id}/run_id={run_id}/task_id=train/**/*.log")):
            print(f"--- {log}\n" + log.read_text()[-2000:])
        raise
