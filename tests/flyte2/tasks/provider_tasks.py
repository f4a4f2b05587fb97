"""Flyte 2 tasks the provider's Flyte 2 tests run through Airflow."""

import asyncio

import flyte

env = flyte.TaskEnvironment(name="provider")


@env.task
def scale(values: list[int], factor: float = 2.0, label: str = "scaled") -> dict[str, float]:
    """Every value times factor, keyed by label and position: a list in, a map out, a default."""
    return {f"{label}-{i}": v * factor for i, v in enumerate(values)}


@env.task
def fail(message: str) -> int:
    """Raises with message, for the run's error_info."""
    raise ValueError(message)


@env.task
async def nap(seconds: float) -> str:
    """Sleeps: a run to abort, time out or reattach to while it runs."""
    await asyncio.sleep(seconds)
    return f"napped {seconds}"
