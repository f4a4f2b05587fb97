"""Workflows whose inputs and outputs cover Flyte's type system, for the hook's conversions."""

from __future__ import annotations

import enum
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta

from flytekit import task, workflow
from flytekit.types.file import FlyteFile


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclass
class Point:
    x: float
    y: float


@task
def describe(when: datetime, wait: timedelta, color: Color, point: Point, note: str | None) -> dict[str, str]:
    return {
        "when": when.isoformat(),
        "wait": str(wait.total_seconds()),
        "color": color.value,
        "point": f"{point.x},{point.y}",
        "note": str(note),
    }


@workflow
def describe_wf(when: datetime, wait: timedelta, color: Color, point: Point, note: str | None = None) -> dict[str, str]:
    return describe(when=when, wait=wait, color=color, point=point, note=note)


@task
def produce(n: int) -> tuple[datetime, timedelta, Color, Point, list[int | None], FlyteFile]:
    path = os.path.join(tempfile.mkdtemp(), "report.txt")
    with open(path, "w") as f:
        f.write("report" * n)
    return (
        datetime(2026, 1, 2, 3, 4, 5),
        timedelta(minutes=n),
        Color.GREEN,
        Point(x=1.5, y=-2.0),
        [n, None],
        FlyteFile(path),
    )


@workflow
def produce_wf(n: int = 2) -> tuple[datetime, timedelta, Color, Point, list[int | None], FlyteFile]:
    return produce(n=n)


@task
def big(n: int) -> str:
    return "x" * n


@workflow
def big_wf(n: int = 3_000_000) -> str:
    return big(n=n)
