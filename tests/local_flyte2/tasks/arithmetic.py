"""Small Flyte 2 tasks the local run service's tests deploy: a sync and an async adder."""

import flyte

env = flyte.TaskEnvironment(name="arithmetic")


@env.task
def add(x: int, y: int = 1) -> int:
    """x + y, with a default for y (so y is an optional input)."""
    return x + y


@env.task
async def describe(name: str, times: int) -> str:
    """An async task: Flyte 2 tasks are often coroutines."""
    return " ".join([name] * times)
