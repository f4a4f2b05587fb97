"""The XCom record of the execution a task instance owns, and the cause it is stopped with.

Written before CreateExecution (so a stop that lands during the launch still knows the name) and
again when a retry recovers or relaunches into a successor. Only tasks that wait for their
execution and terminate it on kill write one: a fire-and-forget launch, a sensor or
``terminate_on_kill=False`` is never stopped from Airflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from airflow_provider_flyte.phases import airflow_abort_cause

XCOM_KEY = "flyte_execution"


@dataclass(frozen=True)
class OwnedExecution:
    conn_id: str
    project: str
    domain: str
    name: str

    def to_xcom(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_xcom(cls, value: Any) -> OwnedExecution | None:
        """None for anything that is not a record this provider wrote."""
        if not isinstance(value, Mapping):
            return None
        conn_id, project, domain, name = (value.get(key) for key in ("conn_id", "project", "domain", "name"))
        if not all(isinstance(v, str) and v for v in (conn_id, project, domain, name)):
            return None
        return cls(str(conn_id), str(project), str(domain), str(name))


def stop_cause(dag_id: str, task_id: str, try_number: int, run_id: str) -> str:
    """The abort cause whoever stops the execution uses: the trigger, the task process or the reaper."""
    return airflow_abort_cause(f"task {dag_id}.{task_id} try {try_number} (run {run_id}) was stopped")
