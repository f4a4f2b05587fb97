"""Airflow listener hooks that hand stopped task instances to the reaper.

Listener hooks fire in every Airflow process, with the task SDK's runtime task instance inside a
task's own process (a task failing by itself, which a retry may follow: nothing to stop) and
with the database's task instance where the API server or the scheduler changed its state. Only
the latter stop anything, and only for a final state (a task instance waiting for its retry is
left alone). Each hook only queues work and returns.
"""

from __future__ import annotations

from typing import Any

from airflow.listeners import hookimpl

from airflow_provider_flyte.stopping.reaper import Stop, reaper


def _changed_by_airflow(task_instance: Any) -> bool:
    """The database's task instance (API server, scheduler), not a task's runtime one."""
    return type(task_instance).__module__.startswith("airflow.models")


def _stop(task_instance: Any) -> None:
    map_index = task_instance.map_index if task_instance.map_index is not None else -1
    reaper().submit(Stop(task_instance.dag_id, task_instance.run_id, task_instance.task_id, map_index))


@hookimpl
def on_task_instance_failed(previous_state: Any, task_instance: Any, error: Any) -> None:
    if _changed_by_airflow(task_instance) and task_instance.state == "failed":
        _stop(task_instance)


@hookimpl
def on_task_instance_success(previous_state: Any, task_instance: Any) -> None:
    if _changed_by_airflow(task_instance):
        _stop(task_instance)


@hookimpl
def on_task_instance_skipped(previous_state: Any, task_instance: Any) -> None:
    if _changed_by_airflow(task_instance):
        _stop(task_instance)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    """A run marked failed, or failed by ``dagrun_timeout``: every unfinished Flyte wait in it."""
    reaper().submit(Stop(dag_run.dag_id, dag_run.run_id))
