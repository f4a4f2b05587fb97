"""Lineage from real runs: Airflow's OpenLineage provider (file transport) in the task's process,
and the asset events a FlyteOperator records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DOMAIN, PROJECT

REPO = Path(__file__).resolve().parents[2]
RAW = ("s3://lake", "raw/iris.csv")
MODEL = ("s3://models", "knn/")
SCORES = ("s3://lake", "scores/daily.parquet")


@pytest.fixture(scope="module")
def lineage_admin(flyte_admin):
    flyte_admin.register_module(REPO / "tests" / "workflows" / "lineage.py")
    return flyte_admin


def run_with_openlineage(tmp_path: Path, dag_id: str, *, deferrable: bool = False, fail: bool = False) -> tuple[str, list[dict]]:
    events = tmp_path / "openlineage.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({"type": "file", "log_file_path": str(events), "append": True}),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "airflow-tests",
        # The OpenLineage listener is a provider plugin: the task runner loads those only without lazy discovery.
        "AIRFLOW__CORE__LAZY_DISCOVER_PROVIDERS": "False",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.provider.lineage_run", dag_id, str(int(deferrable)), str(int(fail))],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
    )
    lines = events.read_text().splitlines() if events.exists() else []
    return done.stdout + done.stderr, [json.loads(line) for line in lines]


def task_events(events: list[dict], dag_id: str) -> dict[str, dict]:
    """The task's START/COMPLETE/FAIL events by type (the DAG's own events left out)."""
    return {e["eventType"]: e for e in events if e["job"]["name"] == f"{dag_id}.score"}


def test_a_run_reports_the_flyte_data_it_read_and_wrote(airflow_db, flyte_conn, lineage_admin, tmp_path):
    out, events = run_with_openlineage(tmp_path, "ol_blocking")

    assert "DAG RUN STATE success" in out, out[-3000:]
    complete = task_events(events, "ol_blocking")["COMPLETE"]
    assert {(d["namespace"], d["name"]) for d in complete["inputs"]} == {RAW, MODEL}
    [scores] = complete["outputs"]
    assert (scores["namespace"], scores["name"]) == SCORES
    assert [(f["name"], f["type"]) for f in scores["facets"]["schema"]["fields"]] == [("sample_id", "string"), ("score", "float")]


def test_the_run_facet_names_the_flyte_execution_and_its_launch_plan(airflow_db, flyte_conn, lineage_admin, tmp_path):
    out, events = run_with_openlineage(tmp_path, "ol_facets")

    complete = task_events(events, "ol_facets")["COMPLETE"]
    run = complete["run"]["facets"]["flyte_execution"]
    name = run["name"]
    assert name.startswith("af-ol-facets-score-")
    assert (run["project"], run["domain"], run["phase"]) == (PROJECT, DOMAIN, "SUCCEEDED")
    assert (run["entity_kind"], run["entity_name"]) == ("launch_plan", "lineage.score_wf")
    assert run["entity_version"] and run["console_url"].endswith(f"/executions/{name}")
    job = complete["job"]["facets"]["flyte_entity"]
    assert (job["kind"], job["name"], job["version"]) == ("launch_plan", "lineage.score_wf", run["entity_version"])


def test_a_failed_execution_is_reported_with_its_flyte_error(airflow_db, flyte_conn, lineage_admin, tmp_path):
    out, events = run_with_openlineage(tmp_path, "ol_failing", fail=True)

    assert "DAG RUN STATE failed" in out, out[-3000:]
    fail = task_events(events, "ol_failing")["FAIL"]
    run = fail["run"]["facets"]["flyte_execution"]
    assert run["phase"] == "FAILED" and run["error_kind"] == "USER"
    assert "the model refused the data" in run["error_message"]
    assert {(d["namespace"], d["name"]) for d in fail["inputs"]} == {RAW, MODEL}
    assert fail["outputs"] == []


def test_a_deferrable_run_reports_the_same_lineage_from_the_worker(airflow_db, flyte_conn, lineage_admin, tmp_path):
    out, events = run_with_openlineage(tmp_path, "ol_deferrable", deferrable=True)

    assert "DAG RUN STATE success" in out, out[-3000:]
    by_type = task_events(events, "ol_deferrable")
    assert {"START", "COMPLETE"} <= set(by_type)
    complete = by_type["COMPLETE"]
    assert complete["run"]["facets"]["flyte_execution"]["phase"] == "SUCCEEDED"
    assert [(d["namespace"], d["name"]) for d in complete["outputs"]] == [SCORES]


def test_the_flyte_execution_gets_the_airflow_task_run_as_its_lineage_parent(
    airflow_db, flyte_conn, lineage_admin, tmp_path
):
    out, events = run_with_openlineage(tmp_path, "ol_parent")

    start = task_events(events, "ol_parent")["START"]
    run_id = start["run"]["runId"]
    [execution] = [e for e in lineage_admin.executions() if e.spec.labels.values.get("airflow-dag-id") == "ol_parent"]
    envs = {kv.key: kv.value for kv in execution.spec.envs.values}
    assert envs["OPENLINEAGE_PARENT_ID"] == f"airflow-tests/ol_parent.score/{run_id}"
    assert envs["OPENLINEAGE_ROOT_PARENT_ID"].startswith("airflow-tests/ol_parent/")
    context = json.loads(envs["OPENLINEAGE_CONTEXT"])
    assert context["parent"]["run"]["runId"] == run_id
    assert context["parent"]["root"]["job"] == {"namespace": "airflow-tests", "name": "ol_parent"}


def test_the_asset_event_carries_the_execution_and_the_named_outputs(airflow_db, flyte_conn, lineage_admin, tmp_path):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    out, _ = run_with_openlineage(tmp_path, "asset_extra")

    assert "DAG RUN STATE success" in out, out[-3000:]
    with create_session() as session:
        event = (
            session.query(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.uri == "s3://lake/scores/daily.parquet", AssetEvent.source_dag_id == "asset_extra")
            .one()
        )
        extra = dict(event.extra)
    assert extra["flyte_execution"].startswith("af-asset-extra-score-")
    assert extra["flyte_phase"] == "SUCCEEDED"
    assert extra["flyte_console_url"].endswith(f"/executions/{extra['flyte_execution']}")
    assert extra["outputs"] == {"o0": "s3://lake/scores/daily.parquet"}
    assert (extra["flyte_project"], extra["flyte_domain"]) == (PROJECT, DOMAIN)
