"""Flyte2RunTrigger: waits for a Flyte 2 run in the triggerer, without a worker slot.

Its kwargs are identifiers, a poll interval, a deadline and an abort reason: no credentials (the
connection is read in the triggerer). Every trigger of a connection in the event loop shares one
client (``pool``), and each polls ``GetRunDetails`` on the adaptive schedule capped at
``WATCHED_MAX_INTERVAL``: a wait costs one small call every few seconds at most, and a thousand
waits cost a thousand small calls, never a thousand clients or token fetches. (``WatchRunDetails``
is not used: the open-source server's stream sends empty details, so it cannot replace polls.)
Transient faults never end the wait. ``on_kill`` (Airflow 3.3) aborts the run with
``kill_cause`` when a person marks the deferred task failed or success or clears it; an empty
``kill_cause`` (a sensor, ``abort_on_kill=False``) leaves the run alone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_flyte.exceptions import FlyteWaitError
from airflow_provider_flyte.flyte2.phases import RunState
from airflow_provider_flyte.flyte2.waiting import FLYTE2, RunEvent, what
from airflow_provider_flyte.polling import WATCHED_MAX_INTERVAL, PollPolicy
from airflow_provider_flyte.triggering import check_kwargs, on_kill_budget, run_unstoppable
from airflow_provider_flyte.waiting import Deadline, Progress, existing


class Flyte2RunTrigger(BaseTrigger):
    def __init__(
        self,
        conn_id: str,
        project: str,
        domain: str,
        name: str,
        org: str = "",
        poll_interval: float | None = None,
        deadline: float | None = None,
        waiting_since: float | None = None,
        kill_cause: str = "",
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.org = org
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
                "org": self.org,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "waiting_since": self.waiting_since,
                "kill_cause": self.kill_cause,
            },
        )

    def _hook(self) -> Any:
        from airflow_provider_flyte.flyte2.hook import Flyte2Hook

        return Flyte2Hook(self.conn_id)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_flyte.flyte2.pool import Flyte2ClientPool

        policy = PollPolicy(self.poll_interval, ceiling=WATCHED_MAX_INTERVAL)
        deadline = Deadline(self.deadline)
        hook = self._hook()
        last = RunState(self.project, self.domain, self.name, "UNSPECIFIED", org=self.org)
        progress = Progress(self.log, last)
        try:
            # Held for the whole wait: the loop's client stays open between polls.
            async with Flyte2ClientPool.current().client(self.conn_id):
                while not deadline.passed:
                    # The sync side's observe_with, awaited: the same outage rule and "does not exist".
                    try:
                        found = await hook.afind_run(self.org, self.project, self.domain, self.name)
                    except Exception as err:
                        if not FLYTE2.outage(self.name, err, self.log):
                            raise FlyteWaitError(f"Flyte 2 refused to tell the state of run {self.name}: {FLYTE2.describe(err)}") from err
                    else:
                        seen = existing(found, what(self.project, self.domain, self.name))
                        progress.seen(seen)
                        last = seen
                        if seen.is_terminal:
                            yield self._event("terminal", seen)
                            return
                    pause = policy.interval(time.time() - self.waiting_since)
                    remaining = deadline.remaining()
                    await asyncio.sleep(pause if remaining is None else min(pause, remaining))
        except FlyteWaitError as err:
            yield self._event("error", None, str(err))
            return
        yield self._event("timeout", last, "the wait's deadline passed")

    async def on_kill(self) -> None:
        """A person stopped the deferred task: abort the run too, if the task owns it. The abort
        runs as a task of its own, so a repeated cancel of ``on_kill`` does not stop it."""
        if not self.kill_cause:
            return
        await run_unstoppable(self._abort())

    async def _abort(self) -> None:
        if await self._hook().aabort(self.org, self.project, self.domain, self.name, self.kill_cause, **on_kill_budget()):
            self.log.info("Aborted Flyte 2 run %s", self.name)

    def _event(self, status: str, state: RunState | None, message: str = "") -> TriggerEvent:
        return TriggerEvent(RunEvent(status, state, message, self.deadline).payload())
