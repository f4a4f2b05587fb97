"""The event a DAG receives when a watched Flyte execution ends, and its validation.

Airflow stores the payload in the asset event's ``extra`` (under ``payload``), in the metadata
database: so it carries identities, the phase, the console URL and small outputs, never bulk
data. Files, directories and structured datasets are their URIs (as in XCom); an output whose JSON
is larger than the trigger's ``max_output_bytes`` is left out and named in ``outputs_omitted``
(read it with ``FlyteHook.get_outputs``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_flyte.phases import ExecutionState

VERSION = 1
ENTITY_KEYS = ("kind", "project", "domain", "name", "version")


@dataclass(frozen=True)
class FlyteExecutionEvent:
    execution: ExecutionState
    entity: Mapping[str, str]  # the launch plan (or task) it ran: ENTITY_KEYS
    finished_at: str  # ISO-8601: when it reached its phase, by FlyteAdmin
    outputs: Mapping[str, Any] = field(default_factory=dict)
    outputs_omitted: tuple[str, ...] = ()

    def payload(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "execution": self.execution.to_dict(),
            "entity": dict(self.entity),
            "finished_at": self.finished_at,
            "outputs": dict(self.outputs),
            "outputs_omitted": list(self.outputs_omitted),
        }

    @classmethod
    def from_payload(cls, data: Any) -> FlyteExecutionEvent:
        """An event from a trigger payload, or from an asset event's ``extra`` (which wraps it
        under ``payload``); refuses anything else with the field that is wrong."""
        if isinstance(data, Mapping) and "payload" in data and "execution" not in data:
            data = data["payload"]
        if not isinstance(data, Mapping):
            raise ValueError(f"Flyte execution event: expected a mapping, got {type(data).__name__}")
        if data.get("version") != VERSION:
            raise ValueError(f"Flyte execution event: expected version {VERSION}, got {data.get('version')!r}")
        entity = data.get("entity")
        if not isinstance(entity, Mapping) or any(not isinstance(entity.get(key), str) for key in ENTITY_KEYS):
            raise ValueError(f"Flyte execution event: 'entity' must map {list(ENTITY_KEYS)} to strings, got {entity!r}")
        outputs, omitted = data.get("outputs", {}), data.get("outputs_omitted", [])
        if not isinstance(outputs, Mapping):
            raise ValueError(f"Flyte execution event: 'outputs' must be a mapping, got {type(outputs).__name__}")
        if not isinstance(omitted, list) or not all(isinstance(name, str) for name in omitted):
            raise ValueError(f"Flyte execution event: 'outputs_omitted' must be a list of names, got {omitted!r}")
        if not isinstance(data.get("finished_at"), str):
            raise ValueError("Flyte execution event: 'finished_at' must be an ISO-8601 string")
        return cls(
            ExecutionState.from_dict(data.get("execution", {})),
            {key: entity[key] for key in ENTITY_KEYS},
            data["finished_at"],
            dict(outputs),
            tuple(omitted),
        )


def small_outputs(outputs: Mapping[str, Any], max_bytes: int) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The outputs that fit in ``max_bytes`` of JSON each, and the names of those that do not."""
    kept, omitted = {}, []
    for name, value in sorted(outputs.items()):
        if len(json.dumps(value, default=str)) <= max_bytes:
            kept[name] = value
        else:
            omitted.append(name)
    return kept, tuple(omitted)
