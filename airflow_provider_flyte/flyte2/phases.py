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
``waiting`` work on it unchanged, and ``ExecutionState.from_dict`` rebuilds it (checking the phase
against this table).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

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

    KIND: ClassVar[str] = "Run state"
    NOUN: ClassVar[str] = "Flyte 2 run"
    PRODUCT: ClassVar[str] = "Flyte 2"

    org: str = ""

    @property
    def outcome(self) -> Outcome:
        return run_outcome(self.phase)
