"""FlyteSignalTrigger: the deferrable FlyteSignalSensor's wait, in the triggerer.

It asks FlyteAdmin, every ``poll_interval``, for the execution's signals (one ``ListSignals``, on
the process's shared client for the connection) and, while none is pending, for its state, and
ends with one event: the execution waits on a gate (``gate``, with its signal id), it ended first
(``ended``, with its state), the sensor's timeout passed (``timeout``), or FlyteAdmin refused
(``error``). Transient faults are waited out. Kwargs are identifiers and numbers only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_flyte.exceptions import FlyteProviderError
from airflow_provider_flyte.phases import ExecutionState

STATUSES = ("gate", "ended", "timeout", "error")


@dataclass(frozen=True)
class SignalTriggerEvent:
    status: str
    signal_id: str = ""
    state: ExecutionState | None = None
    message: str = ""

    def payload(self) -> dict[str, Any]:
        state = self.state.to_dict() if self.state else None
        return {"status": self.status, "signal_id": self.signal_id, "state": state, "message": self.message}

    @classmethod
    def parse(cls, event: Any) -> SignalTriggerEvent:
        """Refuse any event this trigger did not make."""
        if not isinstance(event, Mapping) or set(event) != {"status", "signal_id", "state", "message"}:
            raise FlyteProviderError(f"Malformed Flyte signal trigger event: {event!r}")
        if event["status"] not in STATUSES:
            raise FlyteProviderError(f"Flyte signal trigger event status must be one of {STATUSES}, got {event['status']!r}")
        if event["status"] == "gate" and not event["signal_id"]:
            raise FlyteProviderError("Flyte signal trigger gate event names no signal")
        try:
            state = ExecutionState.from_dict(event["state"]) if event["state"] is not None else None
        except ValueError as err:
            raise FlyteProviderError(f"Malformed Flyte signal trigger event: {err}") from None
        if event["status"] == "ended" and (state is None or not state.is_terminal):
            raise FlyteProviderError(f"Flyte signal trigger event claims an ended execution but carries {event['state']!r}")
        return cls(event["status"], str(event["signal_id"]), state, str(event["message"]))


class FlyteSignalTrigger(BaseTrigger):
    def __init__(
        self,
        conn_id: str,
        project: str,
        domain: str,
        name: str,
        signal_id: str | None = None,
        poll_interval: float = 10.0,
        deadline: float | None = None,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.project = project
        self.domain = domain
        self.name = name
        self.signal_id = signal_id
        self.poll_interval = poll_interval
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "project": self.project,
                "domain": self.domain,
                "name": self.name,
                "signal_id": self.signal_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_flyte.watcher.pool import ClientPool

        async with ClientPool.current().client(self.conn_id) as client:
            while True:
                event = await self._look(client)
                if event is None and self.deadline is not None and time.time() >= self.deadline:
                    event = SignalTriggerEvent("timeout", message="the sensor's timeout passed")
                if event is not None:
                    yield TriggerEvent(event.payload())
                    return
                await asyncio.sleep(self.poll_interval)

    async def _look(self, client: Any) -> SignalTriggerEvent | None:
        from airflow_provider_flyte.hooks import calls
        from airflow_provider_flyte.hooks.retry import is_transient

        try:
            signals = await calls.list_signals(self.project, self.domain, self.name).arun(client)
            waiting = pending_ids(signals, self.signal_id)
            if waiting:
                return SignalTriggerEvent("gate", signal_id=waiting[0])
            state = await calls.find_execution(client.config, self.project, self.domain, self.name).arun(client)
        except Exception as err:
            if is_transient("ListSignals", err):
                self.log.warning("FlyteAdmin unreachable while looking for the gates of %s (%s); will ask again", self.name, err)
                return None
            return SignalTriggerEvent("error", message=f"FlyteAdmin refused: {err}")
        if state is None:
            return SignalTriggerEvent("error", message=f"Flyte execution {self.project}/{self.domain}/{self.name} does not exist")
        return SignalTriggerEvent("ended", state=state) if state.is_terminal else None


def pending_ids(signals: Sequence[Any], wanted: str | None) -> list[str]:
    """Ids of the signals without a value, only ``wanted`` if given."""
    return [s.id.signal_id for s in signals if not s.HasField("value") and wanted in (None, s.id.signal_id)]
