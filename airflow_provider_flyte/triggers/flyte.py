"""FlyteExecutionTrigger: waits for a Flyte execution in the triggerer, without a worker slot.

Its kwargs are only identifiers, a poll interval and a deadline (no credentials: the connection
is read in the triggerer); they are the same since 1.0.0.dev0, so stored rows resume after an
upgrade. The waiting itself is the process's shared watcher (``watcher/``): one client, one token
and batched polls for every trigger of a connection, with each trigger's own adaptive schedule
capped at a few seconds. Transient FlyteAdmin faults never end the wait. A deadline of its own
lets the operator cancel the execution when its ``timeout`` expires, which
``defer(timeout=...)`` cannot. ``on_kill`` (Airflow 3.3) terminates the execution, with
``kill_cause``, when a person marks the task failed/success or clears it; an empty ``kill_cause``
(a sensor, or ``terminate_on_kill=False``) leaves the execution alone. Airflow does not call
``on_kill`` on triggerer restarts, so those just resume polling.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_flyte.exceptions import FlyteWaitError
from airflow_provider_flyte.phases import ExecutionState
from airflow_provider_flyte.polling import WATCHED_MAX_INTERVAL, PollPolicy
from airflow_provider_flyte.signals.pending import GateReporter
from airflow_provider_flyte.triggering import check_kwargs, on_kill_budget, run_unstoppable
from airflow_provider_flyte.waiting import PROGRESS_EVERY, Deadline, FlyteTriggerEvent, Progress

__all__ = ["FlyteExecutionTrigger", "FlyteTriggerEvent"]

GATE_LOOK_EVERY = 15.0  # seconds between looks for a paused gate, only for workflows with gates


class FlyteExecutionTrigger(BaseTrigger):
    def __init__(
        self,
        conn_id: str,
        project: str,
        domain: str,
        name: str,
        poll_interval: float | None = None,
        deadline: float | None = None,
        waiting_since: float | None = None,
        kill_cause: str = "",
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.project = project
        self.domain = domain
        self.name = name
        self.poll_interval = poll_interval
        self.deadline = deadline
        self.waiting_since = waiting_since if waiting_since is not None else time.time()
        self.kill_cause = kill_cause
        check_kwargs(self.serialize()[1])

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "project": self.project,
                "domain": self.domain,
                "name": self.name,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "waiting_since": self.waiting_since,
                "kill_cause": self.kill_cause,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_flyte.watcher.pool import ClientPool

        policy = PollPolicy(self.poll_interval, ceiling=WATCHED_MAX_INTERVAL)
        deadline = Deadline(self.deadline)
        try:
            async with ClientPool.current().watcher(self.conn_id, self.project, self.domain) as watcher:
                watch = watcher.add(self.name, policy, self.waiting_since)
                progress = Progress(self.log, watch.last)
                gates = GateReporter(self.log)
                try:
                    while (state := await watch.wait(_next_look(deadline, gates))) is None and not deadline.passed:
                        progress.seen(watch.last)
                        await self._tell_gates(gates, watch.last)
                finally:
                    watcher.remove(watch)
        except FlyteWaitError as err:
            yield self._event("error", None, str(err))
            return
        if state is None:
            yield self._event("timeout", watch.last, "the wait's deadline passed")
        else:
            yield self._event("terminal", state)

    async def _tell_gates(self, gates: GateReporter, state: ExecutionState) -> None:
        """Once per gate: the execution waits for a person (the watcher polls executions, not
        signals; this asks for signals only while a workflow with gate nodes runs)."""
        from airflow_provider_flyte.hooks import calls
        from airflow_provider_flyte.hooks.retry import is_transient
        from airflow_provider_flyte.watcher.pool import ClientPool

        try:
            async with ClientPool.current().client(self.conn_id) as client:
                await calls.adrive(gates.look(state), client)
        except Exception as err:
            if not is_transient("ListSignals", err):
                raise FlyteWaitError(f"FlyteAdmin refused to list the signals of {self.name}: {err}") from err

    async def on_kill(self) -> None:
        """A person stopped the deferred task: stop the Flyte execution too, if we own it.

        Airflow re-sends the cancel on every triggerer sync (about a second) until the trigger is
        gone, and a second cancel would end this coroutine; the terminate call therefore runs as a
        task of its own that a cancel of ``on_kill`` does not stop, on the warm shared client.
        """
        if not self.kill_cause:
            return
        await run_unstoppable(self._terminate())

    async def _terminate(self) -> None:
        from airflow_provider_flyte.hooks.flyte import FlyteHook

        hook = FlyteHook(self.conn_id)
        if await hook.aterminate(self.project, self.domain, self.name, self.kill_cause, **on_kill_budget()):
            self.log.info("Terminated Flyte execution %s", self.name)

    def _event(self, status: str, state: ExecutionState | None, message: str = "") -> TriggerEvent:
        return TriggerEvent(FlyteTriggerEvent(status, state, message, self.deadline).payload())


def _next_look(deadline: Deadline, gates: GateReporter) -> float:
    """Wake for the deadline, in time to say the wait is still alive, and, for a workflow with
    gate nodes, often enough to say soon that it waits for a person."""
    every = min(PROGRESS_EVERY, GATE_LOOK_EVERY) if gates.may_pause else PROGRESS_EVERY
    remaining = deadline.remaining()
    return every if remaining is None else min(every, remaining)
