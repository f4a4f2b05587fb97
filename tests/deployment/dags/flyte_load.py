"""Load on the provider in a real deployment: tests/deployment runs it.

Two mapped FlyteOperator tasks on ``simple.sleepy_wf``: ``deferred`` (deferrable, waiting in the
triggerer) and ``blocking`` (waiting in a worker slot). How many of each and how long each
workflow sleeps come from the run's conf, through a small task per group that the mapping expands
over::

    {"deferred": 40, "blocking": 5, "seconds": 15}

``seconds`` is a number (every execution the same) or a list (index ``i`` gets ``seconds[i % len]``).
Keep it at 12 s or more: Airflow 3.3 fails a task whose deferral exit the scheduler learns of after
the task was queued again, which a too short workflow can provoke.
"""

from __future__ import annotations

from airflow.sdk import DAG, get_current_context, task

from airflow_provider_flyte.operators.flyte import FlyteOperator

DAG_ID = "flyte_load"
DEFAULTS = {"deferred": 40, "blocking": 5, "seconds": 15.0}


def _inputs(count_key: str) -> list[dict]:
    conf = {**DEFAULTS, **(get_current_context()["dag_run"].conf or {})}
    seconds = conf["seconds"] if isinstance(conf["seconds"], list) else [conf["seconds"]]
    return [{"seconds": float(seconds[i % len(seconds)])} for i in range(int(conf[count_key]))]


@task
def deferred_inputs() -> list[dict]:
    return _inputs("deferred")


@task
def blocking_inputs() -> list[dict]:
    return _inputs("blocking")


with DAG(
    dag_id=DAG_ID,
    schedule=None,
    is_paused_upon_creation=False,
    catchup=False,
    max_active_tasks=256,
    max_active_runs=16,
    tags=["deployment-test"],
):
    flyte = {
        "flyte_conn_id": "flyte_conn",
        "project": "flytesnacks",
        "domain": "development",
        "launchplan_name": "simple.sleepy_wf",
    }
    FlyteOperator.partial(task_id="deferred", deferrable=True, **flyte).expand(inputs=deferred_inputs())
    FlyteOperator.partial(task_id="blocking", deferrable=False, **flyte).expand(inputs=blocking_inputs())
