"""Waiting for a Flyte 2 run: Flyte 1's one way of waiting (``airflow_provider_flyte.waiting``),
bound to the Flyte 2 hook and to ``RunState`` (its phase table and names).

Nothing of the waiting itself is here: the poll loop (``wait_with``), telling an outage from a
refusal (``Service``), the absolute ``Deadline``, ``Progress`` lines, ``conclude`` and the trigger
event's validation are the shared ones. This module only says which RPC reads a run's state, how
its faults are judged, and that trigger events carry a ``RunState``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

from airflow_provider_flyte import waiting as shared
from airflow_provider_flyte.flyte2.hook import Flyte2Hook
from airflow_provider_flyte.flyte2.phases import RunState
from airflow_provider_flyte.phases import ExecutionState
from airflow_provider_flyte.polling import PollPolicy
from airflow_provider_flyte.waiting import Deadline, Log


class Flyte2Waiter:
    """What the operator and the sensor share: their hook, and where their runs live."""

    flyte2_conn_id: str
    org: str | None
    project: str | None
    domain: str | None

    @cached_property
    def hook(self) -> Flyte2Hook:
        return Flyte2Hook(flyte2_conn_id=self.flyte2_conn_id)

    def _where(self) -> tuple[str, str, str]:
        return self.hook.where(self.org, self.project, self.domain)


def _transient(rpc: str, err: BaseException) -> bool:
    from airflow_provider_flyte.flyte2.retry import is_transient

    return is_transient(rpc, err)


def _describe(err: BaseException) -> str:
    from airflow_provider_flyte.flyte2.retry import describe

    return describe(err)


FLYTE2 = shared.Service("Flyte 2", "GetRunDetails", _transient, _describe)


def what(project: str, domain: str, name: str) -> str:
    return f"{RunState.NOUN} {project}/{domain}/{name}"


def observe(hook: Flyte2Hook, org: str, project: str, domain: str, name: str, log: Log) -> RunState | None:
    """The run's state now, or None while Flyte 2 is unreachable. Raises ``FlyteWaitError`` if
    there is no such run."""
    return shared.observe_with(lambda: hook.find_run(org, project, domain, name), FLYTE2, what(project, domain, name), name, log)


def wait(hook: Flyte2Hook, state: RunState, policy: PollPolicy, deadline: Deadline, log: Log) -> RunState:
    """Poll until the run ends or the deadline passes; the last state seen either way."""

    def look(s: RunState) -> RunState | None:
        return observe(hook, s.org, s.project, s.domain, s.name, log)

    return shared.wait_with(state, look, policy, deadline, log)


class RunEvent(shared.FlyteTriggerEvent):
    """The shared trigger event, carrying a ``RunState``."""

    STATE: ClassVar[type[ExecutionState]] = RunState


def resume(event: Any, expected: Sequence[str] | None, deadline: float | None) -> shared.Resumed[RunState]:
    """What a trigger event tells the task that deferred; an error event raises."""
    return shared.resume_as(RunState, RunEvent, event, expected, deadline)
