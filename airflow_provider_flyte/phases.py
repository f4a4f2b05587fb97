"""The one place where Flyte execution phases become Airflow outcomes.

Peer providers have reported cancelled or failed remote runs as successes because a phase was
handled implicitly. Here every ``WorkflowExecution.Phase`` is listed, and an unknown phase is an
error rather than a silent "still running". Which exception each ending raises is in
``exceptions`` (which imports this module, never the other way round).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, TypeVar

S = TypeVar("S", bound="ExecutionState")


class Outcome(str, enum.Enum):
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    ABORTED = "aborted"


# FAILING and ABORTING are transitional: the error / abort metadata is only final once the
# execution reaches FAILED / ABORTED, so we keep waiting for it.
PHASE_OUTCOMES: Mapping[str, Outcome] = {
    "UNDEFINED": Outcome.WAITING,
    "QUEUED": Outcome.WAITING,
    "RUNNING": Outcome.WAITING,
    "SUCCEEDING": Outcome.WAITING,
    "SUCCEEDED": Outcome.SUCCEEDED,
    "FAILING": Outcome.WAITING,
    "FAILED": Outcome.FAILED,
    "ABORTED": Outcome.ABORTED,
    "TIMED_OUT": Outcome.TIMED_OUT,
    "ABORTING": Outcome.WAITING,
}

# Every abort this provider requests carries this prefix, so a later try can tell an execution
# Airflow stopped (a task timeout, a clear) from one a person stopped in Flyte.
AIRFLOW_ABORT_PREFIX = "Stopped by Airflow: "


def airflow_abort_cause(reason: str) -> str:
    return AIRFLOW_ABORT_PREFIX + reason


def outcome_of(phase: str) -> Outcome:
    try:
        return PHASE_OUTCOMES[phase]
    except KeyError:
        raise ValueError(
            f"Unknown Flyte execution phase {phase!r}; expected one of {sorted(PHASE_OUTCOMES)}"
        ) from None


@dataclass(frozen=True)
class ExecutionState:
    """A JSON-friendly snapshot of one execution: what trigger events carry and logs show.

    A subclass (Flyte 2's ``RunState``) adds fields and its own ``outcome`` table; ``from_dict``
    and the waiting code serve it unchanged, naming it ``KIND``.
    """

    KIND: ClassVar[str] = "Execution state"  # in the errors of from_dict
    NOUN: ClassVar[str] = "Flyte execution"  # in log lines and errors about one
    PRODUCT: ClassVar[str] = "Flyte"  # in the errors of trigger events

    project: str
    domain: str
    name: str
    phase: str
    url: str = ""
    error_code: str = ""
    error_kind: str = ""
    error_message: str = ""
    abort_cause: str = ""
    abort_principal: str = ""
    started_at: str = ""
    duration_s: float = 0.0
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.phase)

    @property
    def aborted_by_airflow(self) -> bool:
        return self.outcome is Outcome.ABORTED and self.abort_cause.startswith(AIRFLOW_ABORT_PREFIX)

    @property
    def is_terminal(self) -> bool:
        return self.outcome is not Outcome.WAITING

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls: type[S], data: Mapping[str, Any]) -> S:
        """Rebuild a state from a trigger event, refusing anything malformed (the phase by this
        class's own outcome table)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"{cls.KIND} must be a mapping, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{cls.KIND} has unknown fields {sorted(unknown)}")
        for required in ("project", "domain", "name", "phase"):
            if not isinstance(data.get(required), str) or not data[required]:
                raise ValueError(f"{cls.KIND} field {required!r} must be a non-empty string")
        if not isinstance(data.get("labels", {}), Mapping):
            raise ValueError(f"{cls.KIND} field 'labels' must be a mapping")
        state = cls(**{**data, "labels": dict(data.get("labels", {}))})
        _ = state.outcome  # raises ValueError on a phase the table does not list
        return state

    def describe(self) -> str:
        return f"{self.NOUN} {self.project}/{self.domain}/{self.name} is {self.phase}"

    def summary(self, note: str = "") -> str:
        """``describe()`` and ``note``, then the console URL last on the line: log viewers turn a
        URL into a link up to the next space, so nothing may stick to its end."""
        return f"{self.describe()}{note}" + (f" - console: {self.url}" if self.url else "")
