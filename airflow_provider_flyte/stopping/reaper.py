"""A background thread, one per process, that terminates the executions Airflow stopped.

The listener hands it a stop (a task instance, or every unfinished task instance of a run) and
returns at once: nothing here runs on the API server's request path or in the scheduler loop.
For each stop it reads the records (``records``) from Airflow's database and terminates what they
name, then looks again at ``RESCANS``: a task that was launching when it was stopped may create
its execution a moment later. An execution that has ended, or that this thread terminated, is
not asked about again; failures are logged and retried at the next look, never raised.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_provider_flyte.stopping.records import XCOM_KEY, OwnedExecution, stop_cause

if TYPE_CHECKING:
    from airflow_provider_flyte.hooks.flyte import FlyteHook

log = logging.getLogger(__name__)

RESCANS = (0.0, 3.0, 10.0, 25.0)
CALL_TIMEOUT = 5.0
CALL_RETRIES = 1
_SETTLED_FOR = 3600.0


@dataclass(frozen=True)
class Stop:
    """Task instances Airflow stopped: one (``task_id`` and ``map_index`` set), or every task
    instance of the run that did not succeed."""

    dag_id: str
    run_id: str
    task_id: str | None = None
    map_index: int = -1


class Reaper:
    def __init__(self) -> None:
        self._queue: list[tuple[float, int, Stop, int]] = []
        self._order = itertools.count()
        self._wakeup = threading.Condition()
        self._settled: dict[tuple[str, str, str, str], float] = {}
        self._hooks: dict[str, FlyteHook] = {}
        self._thread: threading.Thread | None = None

    def submit(self, stop: Stop) -> None:
        with self._wakeup:
            heapq.heappush(self._queue, (time.monotonic() + RESCANS[0], next(self._order), stop, 0))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="flyte-reaper", daemon=True)
                self._thread.start()
            self._wakeup.notify()

    def _serve(self) -> None:
        while True:
            with self._wakeup:
                while not self._queue or self._queue[0][0] > time.monotonic():
                    self._wakeup.wait(None if not self._queue else self._queue[0][0] - time.monotonic())
                _, _, stop, look = heapq.heappop(self._queue)
                if look + 1 < len(RESCANS):
                    due = time.monotonic() + RESCANS[look + 1] - RESCANS[look]
                    heapq.heappush(self._queue, (due, next(self._order), stop, look + 1))
            try:
                self._reap(stop)
            except Exception:  # the database or FlyteAdmin is down: the next look tries again
                log.exception("Could not stop the Flyte executions of %s", stop)

    def _reap(self, stop: Stop) -> None:
        now = time.monotonic()
        self._settled = {key: until for key, until in self._settled.items() if until > now}
        for owned, try_number, task_id in self._owned(stop):
            key = (owned.conn_id, owned.project, owned.domain, owned.name)
            if key in self._settled:
                continue
            try:
                if self._terminate(owned, stop_cause(stop.dag_id, task_id, try_number, stop.run_id)):
                    self._settled[key] = now + _SETTLED_FOR
            except Exception as err:
                log.warning("Could not stop Flyte execution %s/%s/%s (%s); will try again", *key[1:], err)

    def _terminate(self, owned: OwnedExecution, cause: str) -> bool:
        """True once the execution is ended or ending; False while it does not exist (yet)."""
        hook = self._hook(owned.conn_id)
        state = hook.find_execution(owned.project, owned.domain, owned.name)
        if state is None:
            return False
        if not state.is_terminal:
            hook.terminate(owned.project, owned.domain, owned.name, cause, timeout=CALL_TIMEOUT, retries=CALL_RETRIES)
            log.info("Stopped Flyte execution %s/%s/%s: %s", owned.project, owned.domain, owned.name, cause)
        return True

    def _hook(self, conn_id: str) -> FlyteHook:
        if conn_id not in self._hooks:
            from airflow_provider_flyte.hooks.flyte import FlyteHook

            self._hooks[conn_id] = FlyteHook(conn_id)
        return self._hooks[conn_id]

    def _owned(self, stop: Stop) -> Iterator[tuple[OwnedExecution, int, str]]:
        """Each record of the stopped task instances, with the try number the cause names."""
        from airflow.models.taskinstance import TaskInstance
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState
        from sqlalchemy import select

        with create_session() as session:
            records = select(XComModel).where(
                XComModel.dag_id == stop.dag_id, XComModel.run_id == stop.run_id, XComModel.key == XCOM_KEY
            )
            instances = select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.try_number, TaskInstance.state).where(
                TaskInstance.dag_id == stop.dag_id, TaskInstance.run_id == stop.run_id
            )
            if stop.task_id is not None:
                records = records.where(XComModel.task_id == stop.task_id, XComModel.map_index == stop.map_index)
                instances = instances.where(TaskInstance.task_id == stop.task_id, TaskInstance.map_index == stop.map_index)
            tries = {(t, m): (n, s) for t, m, n, s in session.execute(instances)}
            found = [(row.task_id, row.map_index, XComModel.deserialize_value(row)) for row in session.scalars(records)]
        for task_id, map_index, value in found:
            try_number, state = tries.get((task_id, map_index), (0, None))
            owned = OwnedExecution.from_xcom(value)
            if owned is not None and (stop.task_id is not None or state != TaskInstanceState.SUCCESS):
                yield owned, try_number, task_id


_REAPER = Reaper()


def reaper() -> Reaper:
    return _REAPER
