"""Which Flyte executions make an event, and the ListExecutions request that finds them.

Only terminal phases can be asked for: an event is "this execution ended so", sent once per
execution; a running execution would change phase after its event. Labels cannot be filtered by
FlyteAdmin (they live in the execution's spec), so they are matched here; so is "launched by
Airflow", which our labels say (``labels.IDENTITY``).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_flyte.labels import IDENTITY
from airflow_provider_flyte.phases import PHASE_OUTCOMES, Outcome

TERMINAL_PHASES = tuple(phase for phase, outcome in PHASE_OUTCOMES.items() if outcome is not Outcome.WAITING)
AIRFLOW_LABEL = IDENTITY[0]  # every execution the operator launches carries it
PAGE_SIZE = 100


@dataclass(frozen=True)
class EventQuery:
    project: str
    domain: str
    launch_plan: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    phases: tuple[str, ...] = ("SUCCEEDED",)
    include_airflow_launched: bool = False

    def __post_init__(self) -> None:
        for key in ("project", "domain"):
            if not getattr(self, key):
                raise ValueError(f"FlyteExecutionEventTrigger: {key!r} must be a non-empty string")
        if not self.phases:
            raise ValueError(f"FlyteExecutionEventTrigger: 'phases' must name at least one of {list(TERMINAL_PHASES)}")
        unknown = [phase for phase in self.phases if phase not in TERMINAL_PHASES]
        if unknown:
            raise ValueError(
                f"FlyteExecutionEventTrigger: 'phases' must be terminal phases {list(TERMINAL_PHASES)}, "
                f"got {unknown}"
            )
        bad = {k: v for k, v in self.labels.items() if not isinstance(k, str) or not isinstance(v, str)}
        if bad:
            raise ValueError(f"FlyteExecutionEventTrigger: 'labels' must map strings to strings, got {bad!r}")
        if any(";" in value or "," in value for value in (self.launch_plan, *self.phases)):
            raise ValueError(f"FlyteExecutionEventTrigger: 'launch_plan' {self.launch_plan!r} cannot be filtered on")

    def filters(self, since: datetime.datetime) -> str:
        """flyteadmin's filter string: phases, launch plan, and changed at or after ``since``."""
        parts = [f"value_in(phase,{';'.join(self.phases)})"]
        if self.launch_plan:
            parts.append(f"eq(launch_plan.name,{self.launch_plan})")
        stamp = since.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
        parts.append(f"gte(execution_updated_at,{stamp})")
        return "+".join(parts)

    def list_request(self, since: datetime.datetime, token: str = "", limit: int = PAGE_SIZE) -> Any:
        """Oldest change first, so a cursor moves forward through the pages."""
        from flyteidl.admin import common_pb2

        return common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=self.project, domain=self.domain),
            limit=limit,
            token=token,
            filters=self.filters(since),
            sort_by=common_pb2.Sort(key="execution_updated_at", direction=common_pb2.Sort.ASCENDING),
        )

    def wants(self, labels: Mapping[str, str]) -> bool:
        if not self.include_airflow_launched and AIRFLOW_LABEL in labels:
            return False
        return all(labels.get(key) == value for key, value in self.labels.items())

    @classmethod
    def of(
        cls,
        project: str,
        domain: str,
        launch_plan: str | None,
        labels: Mapping[str, str] | None,
        phases: Sequence[str] | None,
        include_airflow_launched: bool,
    ) -> EventQuery:
        return cls(
            project,
            domain,
            launch_plan or "",
            dict(labels or {}),
            tuple(phases) if phases else ("SUCCEEDED",),
            include_airflow_launched,
        )
