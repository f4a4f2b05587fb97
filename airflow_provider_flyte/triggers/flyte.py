"""FlyteExecutionTrigger: waits for a Flyte execution in the triggerer, without a worker slot.

Its kwargs are only identifiers, a poll interval and a deadline (no credentials: the connection
is read in the triggerer). Transient FlyteAdmin faults never end the wait: the client retries
them, and if it gives up the trigger logs, sleeps and asks again. A deadline of its own lets the
operator cancel the execution when its ``timeout`` expires, which ``defer(timeout=...)`` cannot.
``on_kill`` (Airflow 3.3) terminates the execution, with ``kill_cause``, when a person marks the
task failed/success or clears it; an empty ``kill_cause`` (a sensor, or ``terminate_on_kill=False``)
leaves the execution alone. Airflow does not call ``on_kill`` on triggerer restarts, so those just
resume polling.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Sequence

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_flyte.exceptions import FlyteProviderError
from airflow_provider_flyte.phases import ExecutionState
from airflow_provider_flyte.polling import PollPolicy

EVENT_STATUSES = ("terminal", "timeout", "error")
ON_KILL_CALL_TIMEOUT = 5.0
ON_KILL_RETRIES = 2


@dataclass(frozen=True)
class FlyteTriggerEvent:
    """A validated trigger payload: what the operator and the sensor act on."""

    status: str
    state: ExecutionState | None
    message: str = ""

    def payload(self) -> dict[str, Any]:
        return {"status": self.status, "state": self.state.to_dict() if self.state else None, "message": self.message}

    @classmethod
    def parse(cls, event: Any, expected: Sequence[str] | None = None) -> FlyteTriggerEvent:
        """Refuse any event we did not make: a malformed one must never read as success.

        ``expected`` (project, domain, name) is the execution the task deferred on; an event about
        any other execution is refused too.
        """
        if not isinstance(event, dict) or set(event) != {"status", "state", "message"}:
            raise FlyteProviderError(f"Malformed Flyte trigger event: {event!r}")
        status = event["status"]
        if status not in EVENT_STATUSES:
            raise FlyteProviderError(f"Flyte trigger event status must be one of {EVENT_STATUSES}, got {status!r}")
        state = ExecutionState.from_dict(event["state"]) if event["state"] is not None else None
        if status == "terminal" and (state is None or not state.is_terminal):
            raise FlyteProviderError(f"Flyte trigger event claims a terminal state but carries {event['state']!r}")
        if status == "timeout" and state is None:
            raise FlyteProviderError("Flyte trigger timeout event carries no execution state")
        if expected is not None and state is not None and [state.project, state.domain, state.name] != list(expected):
            raise FlyteProviderError(
                f"Flyte trigger event is about {state.project}/{state.domain}/{state.name}, "
                f"but this task waits for {'/'.join(expected)}"
            )
        return cls(status=status, state=state, message=str(event["message"]))


def _check_kwargs(kwargs: dict[str, Any]) -> None:
    """Fail before deferring (and so before the triggerer stores them) on unserialisable kwargs."""
    for key, value in kwargs.items():
        if value is not None and not isinstance(value, (str, int, float)):
            raise FlyteProviderError(f"Trigger argument {key!r} must be a string or number, got {type(value).__name__}")
    for key in ("conn_id", "project", "domain", "name"):
        if not kwargs.get(key):
            raise FlyteProviderError(f"Trigger argument {key!r} must be a non-empty string")


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
        _check_kwargs(self.serialize()[1])

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
        from airflow_provider_flyte.hooks.flyte import afind_execution, async_client

        policy = PollPolicy(self.poll_interval)
        # Until FlyteAdmin answers, all we know is the execution's identity.
        last = ExecutionState(self.project, self.domain, self.name, "UNDEFINED")
        client, config = await async_client(self.conn_id)
        try:
            while True:
                try:
                    state = await afind_execution(client, config, self.project, self.domain, self.name)
                except Exception as err:  # transient faults outlasting the client's retries
                    if not _transient(err):
                        yield self._event("error", None, f"FlyteAdmin refused GetExecution for {self.name}: {err}")
                        return
                    self.log.warning("FlyteAdmin unreachable while watching %s (%s); will retry", self.name, err)
                else:
                    if state is None:
                        yield self._event("error", None, f"Flyte execution {self.project}/{self.domain}/{self.name} does not exist")
                        return
                    if state.is_terminal:
                        yield self._event("terminal", state)
                        return
                    last = state
                now = time.time()
                if self.deadline is not None and now >= self.deadline:
                    yield self._event("timeout", last, "the operator's timeout expired")
                    return
                delay = policy.interval(now - self.waiting_since)
                if self.deadline is not None:
                    delay = min(delay, self.deadline - now)
                await asyncio.sleep(delay)
        finally:
            await client.close()

    async def on_kill(self) -> None:
        """A person stopped the deferred task: stop the Flyte execution too, if we own it."""
        from airflow_provider_flyte.hooks.flyte import aterminate, async_client

        if not self.kill_cause:
            return
        # Airflow cancels on_kill after [triggerer] on_kill_timeout (30 s): keep well inside it.
        client, _ = await async_client(self.conn_id, timeout=ON_KILL_CALL_TIMEOUT, retries=ON_KILL_RETRIES)
        try:
            if await aterminate(client, self.project, self.domain, self.name, self.kill_cause):
                self.log.info("Terminated Flyte execution %s", self.name)
        finally:
            await client.close()

    @staticmethod
    def _event(status: str, state: ExecutionState | None, message: str = "") -> TriggerEvent:
        return TriggerEvent(FlyteTriggerEvent(status, state, message).payload())


def _transient(err: BaseException) -> bool:
    from airflow_provider_flyte.hooks.retry import is_transient

    return is_transient("GetExecution", err)
