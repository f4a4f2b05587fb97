"""The one table that turns a Flyte 2 ``ActionPhase`` into an Airflow outcome.

A run's phase is its root action's (``a0``). Every ``ActionPhase`` of flyteidl2 is listed; a
phase that is not (a newer server) is an error, never a silent "still running". Two need a
decision (docs/flyte2.md, "Phases"):

- PAUSED: the run waits for something outside it (a condition an operator must answer, a human
  in the loop). It is not finished, so the task keeps waiting, and says so when the phase
  changes; its ``timeout`` still applies.
- RECOVERED: the action's outputs were taken from the run it recovers (nothing ran again). That
  is a success with outputs, as SUCCEEDED is.

``RunState`` is the Flyte 1 ``ExecutionState`` with the organisation added and this table in
place of Flyte 1's, so the exceptions (``raise_for_outcome``), progress lines and summaries of
``waiting`` work on it unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from airflow_provider_flyte.phases import ExecutionState, Outcome

PHASE_OUTCOMES: Mapping[str, Outcome] = {
    "UNSPECIFIED": Outcome.WAITING,  # a run created a moment ago, before its first event
    "QUEUED": Outcome.WAITING,
    "WAITING_FOR_RESOURCES": Outcome.WAITING,
    "INITIALIZING": Outcome.WAITING,
    "RUNNING": Outcome.WAITING,
    "PAUSED": Outcome.WAITING,
    "SUCCEEDED": Outcome.SUCCEEDED,
    "RECOVERED": Outcome.SUCCEEDED,
    "FAILED": Outcome.FAILED,
    "TIMED_OUT": Outcome.TIMED_OUT,
    "ABORTED": Outcome.ABORTED,
}
_PREFIX = "ACTION_PHASE_"


def phase_name(value: int) -> str:
    """``ActionPhase`` number → the name used here (``ACTION_PHASE_RUNNING`` → ``RUNNING``)."""
    from flyteidl2.common import phase_pb2

    try:
        return phase_pb2.ActionPhase.Name(value).removeprefix(_PREFIX)
    except ValueError:
        raise ValueError(f"Unknown Flyte 2 action phase number {value}; expected one of {sorted(PHASE_OUTCOMES)}") from None


def run_outcome(phase: str) -> Outcome:
    try:
        return PHASE_OUTCOMES[phase]
    except KeyError:
        raise ValueError(f"Unknown Flyte 2 action phase {phase!r}; expected one of {sorted(PHASE_OUTCOMES)}") from None


@dataclass(frozen=True)
class RunState(ExecutionState):
    """A JSON-friendly snapshot of one Flyte 2 run (its root action): what events carry."""

    org: str = ""

    @property
    def outcome(self) -> Outcome:
        return run_outcome(self.phase)

    def describe(self) -> str:
        return f"Flyte 2 run {self.project}/{self.domain}/{self.name} is {self.phase}"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunState:
        """Rebuild a state from a trigger event, refusing anything malformed."""
        if not isinstance(data, Mapping):
            raise ValueError(f"Run state must be a mapping, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"Run state has unknown fields {sorted(unknown)}")
        for required in ("project", "domain", "name", "phase"):
            if not isinstance(data.get(required), str) or not data[required]:
                raise ValueError(f"Run state field {required!r} must be a non-empty string")
        if not isinstance(data.get("labels", {}), Mapping):
            raise ValueError("Run state field 'labels' must be a mapping")
        run_outcome(data["phase"])
        return cls(**{**data, "labels": dict(data.get("labels", {}))})
