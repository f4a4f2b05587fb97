"""The example DAG folder (``example_dags/``) parses as Airflow parses it, and every DAG in it runs
green against the local admin."""

from __future__ import annotations

from pathlib import Path

from tests.airflow_runs import dag_bag, run_dag, task_instance, xcom
from tests.conftest import EXAMPLE_DAGS, EXAMPLE_WORKFLOWS, example_dag

EXAMPLES = {
    "example_flyte_approval",
    "example_flyte_assets",
    "example_flyte_assets_report",
    "example_flyte_classic",
    "example_flyte_deferrable",
    "example_flyte_events",
    "example_flyte_ml",
    "example_flyte_recover",
    "example_flyte2",  # runs in tests/flyte2/test_example_dag.py, against the local Flyte 2 run service
}


def test_the_example_folder_is_a_dag_folder_and_its_flyte_workflows_are_ignored():
    # safe_mode off: every .py file is imported unless .airflowignore excludes it
    bag = dag_bag(EXAMPLE_DAGS, safe_mode=False)

    assert bag.import_errors == {}
    assert set(bag.dag_ids) == EXAMPLES
    assert {Path(p).name for p in bag.file_last_changed} == {
        f"{dag_id}.py" for dag_id in EXAMPLES if not dag_id.endswith("_report")
    }
    assert [p.name for p in EXAMPLE_WORKFLOWS] == ["approval_workflow.py", "ml_workflow.py", "publish_workflow.py"]


def test_the_example_dags_launch_what_the_example_workflows_register_as():
    from airflow_provider_flyte.local_admin.modules import import_module, locate_module, module_entities

    registered = set()
    for path in EXAMPLE_WORKFLOWS:
        location = locate_module(path)
        assert location.import_root == str(EXAMPLE_DAGS)  # named from example_dags/, as pyflyte names them
        entities = module_entities(import_module(location))
        # each workflow's default launch plan has its name
        registered |= {wf.name for wf in entities.workflows} | {lp.name for lp in entities.launch_plans}
    launched = {
        task.launchplan_name
        for dag_id in sorted(EXAMPLES)
        for task in example_dag(dag_id).tasks
        if getattr(task, "launchplan_name", None)
    }

    assert launched == {
        "flyte_workflows.approval_workflow.train_then_deploy",
        "flyte_workflows.ml_workflow.training_workflow",
        "flyte_workflows.publish_workflow.train_and_publish",
    }
    assert launched <= registered


def test_classic_operator_and_sensor_example(airflow_db, flyte_conn):
    dag = example_dag("example_flyte_classic")

    run = run_dag(dag)

    assert run.state == "success"
    assert xcom(run, "wait_for_training", key="outputs")["o0"]["k"] == 7


def test_deferrable_mapped_example_picks_the_best_model(airflow_db, flyte_conn):
    dag = example_dag("example_flyte_deferrable")

    run = run_dag(dag)

    assert run.state == "success"
    assert [task_instance(run, "train", i).state for i in range(4)] == ["success"] * 4
    best = xcom(run, "pick_best")
    assert best["k"] in (1, 3, 5, 9) and best["accuracy"] >= 0.9


def test_recover_example_reruns_only_the_failed_node(airflow_db, flyte_conn, flyte_admin):
    dag = example_dag("example_flyte_recover")

    run = run_dag(dag)

    assert run.state == "success"
    assert task_instance(run, "train_and_publish").try_number == 2
    assert xcom(run, "check_training_ran_once") == 1
    recovered = flyte_admin.get_execution(xcom(run, "train_and_publish"))
    assert recovered.id.name.endswith("-r2")
    assert xcom(run, "train_and_publish", key="_link_FlyteExecutionLink").endswith("/executions/" + recovered.id.name)
    from flyteidl.admin.execution_pb2 import ExecutionMetadata

    assert recovered.spec.metadata.mode == ExecutionMetadata.RECOVERED


def test_assets_example_publishes_the_trained_model_with_its_metrics(airflow_db, flyte_conn):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    run = run_dag(example_dag("example_flyte_assets"))

    assert run.state == "success"
    with create_session() as session:
        [event] = (
            session.query(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.uri.startswith("flyte://"), AssetEvent.source_run_id == run.run_id)
            .all()
        )
        extra = dict(event.extra)
    assert extra["flyte_execution"] == xcom(run, "train")
    assert extra["outputs"]["o0"]["k"] == 5 and 0 < extra["outputs"]["o0"]["accuracy"] <= 1
    report = example_dag("example_flyte_assets_report")
    assert [a.uri for a in report.timetable.asset_condition.objects] == [
        "flyte://flytesnacks/development/flyte_workflows.ml_workflow.training_workflow"
    ]


def test_events_example_reports_a_training_launched_outside_airflow(flyte_conn, flyte_admin):
    import asyncio
    import datetime
    import secrets
    from types import SimpleNamespace

    from flytekit.configuration import Config, PlatformConfig
    from flytekit.remote import FlyteRemote

    from airflow_provider_flyte.triggers.events import FlyteExecutionEventTrigger

    dag = example_dag("example_flyte_events")
    (asset,) = dag.timetable.asset_condition.objects
    (watcher,) = asset.watchers
    started = datetime.datetime.now(datetime.timezone.utc).isoformat()
    remote = FlyteRemote(
        Config(platform=PlatformConfig(endpoint=flyte_admin.endpoint, insecure=True)),
        default_project="flytesnacks",
        default_domain="development",
    )
    name = "notebook-" + secrets.token_hex(5)
    remote.execute(remote.fetch_launch_plan(name="flyte_workflows.ml_workflow.training_workflow"), {"k": 3}, execution_name=name)
    kwargs = {**watcher.trigger.serialize()[1], "since": started, "poll_interval": 0.2, "event_spacing": 0}

    async def first_of_ours() -> dict:
        async for event in FlyteExecutionEventTrigger(**kwargs).run():
            if event.payload["execution"]["name"] == name:
                return event.payload
        raise AssertionError("the watcher stopped")

    payload = asyncio.run(asyncio.wait_for(first_of_ours(), 120))
    asset_event = SimpleNamespace(extra={"from_trigger": True, "payload": payload})  # as Airflow stores it
    lines = dag.get_task("report").python_callable(triggering_asset_events={asset: [asset_event]})

    assert lines[0]["execution"] == name and 0 < lines[0]["accuracy"] <= 1
