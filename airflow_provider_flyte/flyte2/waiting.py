"""Waiting for a Flyte 2 run: Flyte 1's one way of waiting (``airflow_provider_flyte.waiting``),
with the Flyte 2 hook and phase table.

Shared as they are: the poll policy, the absolute ``Deadline``, ``Progress`` lines, ``conclude``
(which raises the exception for a failed, timed-out or aborted run, with its error or abort
cause) and the event statuses. Only what touches the protocol is here: asking for the run's
state (an outage is waited out, not failed), the blocking loop, and the trigger event, whose
state is a ``RunState``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from airflow_provider_flyte.exceptions import FlyteProviderError, FlyteWaitError
from airflow_provider_flyte.flyte2.hook import Flyte2Hook
from airflow_provider_flyte.flyte2.phases import RunState
from airflow_provider_flyte.polling import PollPolicy
from airflow_provider_flyte.waiting import EVENT_STATUSES, Deadline, Log, Progress

_REQUIRED_KEYS = {"status", "state", "message", "deadline"}


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


def observe(hook: Flyte2Hook, org: str, project: str, domain: str, name: str, log: Log) -> RunState | None:
    """The run's state now, or None while Flyte 2 is unreachable (an outage that outlasts the
    client's retries is waited out). Raises ``FlyteWaitError`` if there is no such run."""
    from airflow_provider_flyte.flyte2.retry import describe, is_transient

    try:
        state = hook.find_run(org, project, domain, name)
    except Exception as err:
        if not is_transient("GetRunDetails", err):
            raise
        log.warning("Flyte 2 unreachable while waiting for %s (%s); will ask again", name, describe(err))
        return None
    if state is None:
        raise FlyteWaitError(f"Flyte 2 run {project}/{domain}/{name} does not exist")
    return state


def wait(hook: Flyte2Hook, state: RunState, policy: PollPolicy, deadline: Deadline, log: Log) -> RunState:
    """Poll until the run ends or the deadline passes; the last state seen either way."""
    started = time.monotonic()
    progress = Progress(log, state)
    while not state.is_terminal and not deadline.passed:
        pause = policy.interval(time.monotonic() - started)
        remaining = deadline.remaining()
        time.sleep(pause if remaining is None else min(pause, remaining))
        seen = observe(hook, state.org, state.project, state.domain, state.name, log)
        if seen is not None:
            progress.seen(seen)
            state = seen
    return state


@dataclass(frozen=True)
class RunEvent:
    """A validated trigger payload: what the operator and the sensor resume from. It repeats the
    wait's deadline, which ``dag.test()`` does not pass through ``defer(kwargs=...)``."""

    status: str
    state: RunState | None
    message: str = ""
    deadline: float | None = None

    def payload(self) -> dict[str, Any]:
        state = self.state.to_dict() if self.state else None
        return {"status": self.status, "state": state, "message": self.message, "deadline": self.deadline}

    @classmethod
    def parse(cls, event: Any, expected: Sequence[str] | None = None) -> RunEvent:
        """Refuse any event we did not make (a malformed one must never read as success), and any
        event about another run than ``expected`` (project, domain, name)."""
        if not isinstance(event, Mapping) or set(event) != _REQUIRED_KEYS:
            raise FlyteProviderError(f"Malformed Flyte 2 trigger event: {event!r}")
        deadline = event["deadline"]
        if deadline is not None and (isinstance(deadline, bool) or not isinstance(deadline, (int, float))):
            raise FlyteProviderError(f"Flyte 2 trigger event deadline must be a number or null, got {deadline!r}")
        status = event["status"]
        if status not in EVENT_STATUSES:
            raise FlyteProviderError(f"Flyte 2 trigger event status must be one of {EVENT_STATUSES}, got {status!r}")
        try:
            state = RunState.from_dict(event["state"]) if event["state"] is not None else None
        except ValueError as err:
            raise FlyteProviderError(f"Malformed Flyte 2 trigger event: {err}") from None
        if status == "terminal" and (state is None or not state.is_terminal):
            raise FlyteProviderError(f"Flyte 2 trigger event claims a terminal state but carries {event['state']!r}")
        if status == "timeout" and state is None:
            raise FlyteProviderError("Flyte 2 trigger timeout event carries no run state")
        if expected is not None and state is not None and [state.project, state.domain, state.name] != list(expected):
            raise FlyteProviderError(
                f"Flyte 2 trigger event is about {state.project}/{state.domain}/{state.name}, "
                f"but this task waits for {'/'.join(expected)}"
            )
        return cls(status=status, state=state, message=str(event["message"]), deadline=deadline)


@dataclass(frozen=True)
class Resumed:
    state: RunState
    deadline_passed: bool
    deadline: Deadline


def resume(event: Any, expected: Sequence[str] | None, deadline: float | None) -> Resumed:
    """What a trigger event tells the task that deferred; an error event raises."""
    parsed = RunEvent.parse(event, expected)
    if parsed.status == "error" or parsed.state is None:
        raise FlyteWaitError(parsed.message)
    return Resumed(parsed.state, parsed.status == "timeout", Deadline(deadline if deadline is not None else parsed.deadline))
