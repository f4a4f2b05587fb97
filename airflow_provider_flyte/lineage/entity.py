"""The Flyte launch plan or task a lineage event describes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlyteEntity:
    """What the operator launches, as far as it is known (the version once resolved)."""

    kind: str  # "launch_plan" or "task"
    project: str
    domain: str
    name: str
    version: str = ""
