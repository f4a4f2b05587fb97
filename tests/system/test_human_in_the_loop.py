"""example_flyte_approval end to end in real Airflow processes (api-server, scheduler,
dag-processor, triggerer) against a LocalFlyteAdmin running the example's Flyte workflow with its
real ``approve`` gate; the person answers through Airflow's REST API, as the UI does.

On PostgreSQL (a server of its own, as the deployment suite starts one), not SQLite: a prompt
answered while the deferred task, the scheduler, the triggerer and the API server all write at
once is where SQLite's single writer made Airflow fail the resumed task's start in full CI runs."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.airflow_processes import BIN, Airflow, airflow_env, free_port, wait_for
from tests.conftest import EXAMPLE_DAGS, EXAMPLE_WORKFLOWS, GATE_WORKFLOWS
from tests.deployment.postgres import start_postgres

pytestmark = pytest.mark.timeout(600)

HERE = Path(__file__).resolve().parent
EXAMPLE = "example_flyte_approval"
HASTY = "flyte_hasty_approval"
P, D = "flytesnacks", "development"


@pytest.fixture(scope="module")
def admin():
    from airflow_provider_flyte.local_admin import LocalFlyteAdmin

    with LocalFlyteAdmin(workflows=[*EXAMPLE_WORKFLOWS, GATE_WORKFLOWS], project=P, domain=D, port=0) as local:
        yield local


@pytest.fixture(scope="module")
def postgres():
    with start_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def airflow(admin, postgres):
    home = Path(tempfile.mkdtemp(prefix="airflow-hitl-"))
    dags = home / "dags"
    dags.mkdir()
    shutil.copy(EXAMPLE_DAGS / f"{EXAMPLE}.py", dags)
    shutil.copy(HERE / "hitl_dags" / f"{HASTY}.py", dags)
    api_port = free_port()
    settings = {"AIRFLOW_CONN_FLYTE_CONN": json.dumps(admin.airflow_connection())}
    env = airflow_env(home, api_port, dags, database_url=postgres.create_database("airflow"), settings=settings)
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True, timeout=120)
    cluster = Airflow(home, env, f"http://127.0.0.1:{api_port}", dag_id=EXAMPLE, task_id="review")
    try:
        cluster.start("api-server", "--port", str(api_port), "--host", "127.0.0.1")
        cluster.start("dag-processor")
        cluster.start("scheduler", "--skip-serve-logs")
        cluster.start("triggerer", "--skip-serve-logs")
        cluster.wait_for_dag(EXAMPLE)
        cluster.wait_for_dag(HASTY)
        for dag_id in (EXAMPLE, HASTY):
            cluster.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        yield cluster
    except BaseException:
        print(cluster.diagnostics())
        raise
    finally:
        cluster.stop_all()
        shutil.rmtree(home, ignore_errors=True)


def explained(airflow: Airflow, dag_id: str, run_id: str, wait) -> str:
    """``wait()``'s answer; if it times out, the run's task states and logs first (for the CI log)."""
    try:
        return wait()
    except AssertionError:
        print([(t["task_id"], t["state"]) for t in airflow.task_instances(run_id, dag_id=dag_id)])
        for task in ("train", "wait_for_gate", "review", "answer", "deployed"):
            print(f"--- {task}\n" + task_log(airflow, dag_id, run_id, task)[-3000:])
        for log in sorted(airflow.logs.glob("*.log")):  # what each component said of this run
            lines = [line for line in log.read_text(errors="replace").splitlines() if run_id in line]
            print(f"--- {log.name}\n" + "\n".join(line[:600] for line in lines[-40:]))
        raise


def finished(airflow: Airflow, dag_id: str, run_id: str) -> str:
    return explained(airflow, dag_id, run_id, lambda: airflow.wait_for_run(run_id, dag_id=dag_id, timeout=240))


# How long the person reads the prompt before answering. An answer within a second or two of the
# prompt races Airflow 3.3's scheduler: the resumed try is queued under the same try number before
# the scheduler has read the exit of the process that asked, and it fails that try as "killed
# externally" (the example's review retries; docs/human-in-the-loop.md).
READING = 5.0


def answered(airflow: Airflow, run_id: str, choice: str) -> str:
    """The run's final state, answering ``review`` with ``choice`` once each try of it has asked
    for ``READING`` seconds."""
    path = f"/api/v2/dags/{EXAMPLE}/dagRuns/{run_id}/taskInstances/review/-1/hitlDetails"
    asking_since: dict[int, float] = {}

    def check() -> str | None:
        review = airflow.task_instance(run_id, "review", dag_id=EXAMPLE)
        if review and review["state"] == "awaiting_input":
            since = asking_since.setdefault(review["try_number"], time.monotonic())
            if time.monotonic() - since >= READING:
                airflow.request("PATCH", path, {"chosen_options": [choice]})
        state = airflow.run_state(run_id, dag_id=EXAMPLE)
        return state if state in ("success", "failed") else None

    return explained(airflow, EXAMPLE, run_id, lambda: wait_for(f"run {run_id}, answered {choice}", check, 300))


def task_log(airflow: Airflow, dag_id: str, run_id: str, task_id: str) -> str:
    logs = sorted((airflow.home / "logs").glob(f"dag_id={dag_id}/run_id={run_id}/task_id={task_id}/*.log"))
    return "\n".join(path.read_text() for path in logs)


def test_approved_in_airflow_the_flyte_execution_deploys(airflow, admin):
    run_id = "approve-" + secrets.token_hex(3)
    airflow.trigger(run_id, dag_id=EXAMPLE)

    assert answered(airflow, run_id, "Approve") == "success"
    (execution,) = [e for e in admin.executions() if e.spec.labels.values.get("airflow-run-id") == run_id]
    assert execution.closure.phase == 4  # SUCCEEDED
    assert "waiting for approval `deploy-model` on node" in task_log(airflow, EXAMPLE, run_id, "wait_for_gate")


def test_rejected_in_airflow_the_execution_fails_with_flytes_cause_in_the_log(airflow):
    run_id = "reject-" + secrets.token_hex(3)
    airflow.trigger(run_id, dag_id=EXAMPLE)

    assert answered(airflow, run_id, "Reject") == "failed"
    assert airflow.ti_state(run_id, "answer", dag_id=EXAMPLE) == "success"
    assert "received a reject signal to disapprove the node input values" in task_log(airflow, EXAMPLE, run_id, "deployed")


def test_unanswered_before_the_gates_timeout_the_run_fails_with_that_cause(airflow):
    run_id = "silence-" + secrets.token_hex(3)
    airflow.trigger(run_id, dag_id=HASTY)

    assert finished(airflow, HASTY, run_id) == "failed"
    assert "task execution timeout [2s] expired" in task_log(airflow, HASTY, run_id, "deployed")
