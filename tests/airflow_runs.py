"""Running DAGs for real with ``dag.test()`` and reading back what Airflow recorded."""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG


def run_dag(dag: DAG, **kwargs: Any):
    """Serialise ``dag`` into the metadata DB (dag.test() requires it) and run it to completion."""
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.settings import conf

    bag = DagBag(dag_folder=conf.get("core", "dags_folder"))
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)
    return dag.test(**kwargs)


def task_instance(dag_run, task_id: str, map_index: int = -1):
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = (
            session.query(TaskInstance)
            .filter_by(dag_id=dag_run.dag_id, run_id=dag_run.run_id, task_id=task_id, map_index=map_index)
            .one()
        )
        session.expunge(ti)
        return ti


def xcom(dag_run, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(dag_id=dag_run.dag_id, run_id=dag_run.run_id, task_id=task_id, key=key, map_index=map_index)
            .one_or_none()
        )
        return None if row is None else XComModel.deserialize_value(row)
