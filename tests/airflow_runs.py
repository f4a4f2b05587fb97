"""Running DAGs for real with ``dag.test()`` and reading back what Airflow recorded.

The test harness's (and ``make demo``'s) side of what moved between Airflow 3.0 and 3.3: the
provider's own differences live in ``airflow_provider_flyte/compat.py``, these are Airflow
internals that only a harness touches (where the DagBag lives and how it is written to the DB).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.sdk import DAG

from airflow_provider_flyte.compat import AIRFLOW_3_1_PLUS, AIRFLOW_3_2_PLUS


def dag_bag(folder: Path | str, **kwargs: Any) -> Any:
    """``folder`` parsed as Airflow's DAG processor parses a bundle."""
    if AIRFLOW_3_2_PLUS:
        from airflow.dag_processing.dagbag import DagBag
    else:
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef,unused-ignore]
    return DagBag(dag_folder=folder, bundle_path=Path(folder), **kwargs)


def sync_to_db(bag: Any) -> None:
    """Serialise the bag's DAGs into the metadata DB, as the DAG processor does: dag.test() runs
    the serialised DAG from 3.1 on (3.0 runs the DAG object it is called on)."""
    if AIRFLOW_3_2_PLUS:
        from airflow.dag_processing.dagbag import sync_bag_to_db
    elif AIRFLOW_3_1_PLUS:
        from airflow.models.dagbag import sync_bag_to_db  # type: ignore[no-redef,unused-ignore]
    else:
        return
    sync_bag_to_db(bag, "dags-folder", None)


def load_trigger_kwargs(row: Any) -> dict[str, Any]:
    """A stored trigger row's kwargs, decoded as the triggerer decodes them before building it."""
    if AIRFLOW_3_2_PLUS:
        from airflow.serialization.decoders import smart_decode_trigger_kwargs
    else:
        from airflow.serialization.serialized_objects import (  # type: ignore[no-redef,attr-defined,unused-ignore]
            smart_decode_trigger_kwargs,
        )
    return {key: smart_decode_trigger_kwargs(value) for key, value in row.kwargs.items()}


def run_dag(dag: DAG, **kwargs: Any):
    """Serialise ``dag`` into the metadata DB (dag.test() requires it) and run it to completion."""
    from airflow.settings import conf

    bag = dag_bag(conf.get("core", "dags_folder"))
    bag.bag_dag(dag)
    sync_to_db(bag)
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
