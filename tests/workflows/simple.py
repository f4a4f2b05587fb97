"""Small flytekit workflows that the tests launch on the local Flyte admin.

Each entity exercises one behaviour: success with typed outputs, a user error, a slow run
(for waiting, termination and timeouts), fixed and default inputs on launch plans.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from flytekit import LaunchPlan, task, workflow


@dataclass
class Summary:
    total: int
    mean: float
    labels: list[str]


@task
def double(x: int) -> int:
    return 2 * x


@workflow
def double_wf(x: int = 1) -> int:
    return double(x=x)


double_fixed_lp = LaunchPlan.get_or_create(double_wf, name="simple.double_fixed", fixed_inputs={"x": 5})


@task
def summarize(values: list[int], tags: dict[str, str]) -> Summary:
    return Summary(total=sum(values), mean=sum(values) / len(values), labels=sorted(tags))


@workflow
def summarize_wf(values: list[int], tags: dict[str, str] = {"a": "1"}) -> Summary:  # noqa: B006 (a Flyte default)
    return summarize(values=values, tags=tags)


@task
def fail(message: str) -> int:
    if message:  # flytekit refuses a task with a return type that can only raise
        raise ValueError(message)
    return 0


@workflow
def failing_wf(message: str = "boom") -> int:
    return fail(message=message)


@task
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@workflow
def sleepy_wf(seconds: float = 2.0) -> float:
    return nap(seconds=seconds)


@task(timeout=timedelta(seconds=1))
def overslept(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@workflow
def timeout_wf(seconds: float = 30.0) -> float:
    return overslept(seconds=seconds)
