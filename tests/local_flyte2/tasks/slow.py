"""Tasks that take their time: one to abort, one that outlives its declared timeout."""

import asyncio
from datetime import timedelta

import flyte

env = flyte.TaskEnvironment(name="slow")


@env.task
async def sleep(seconds: float) -> str:
    """Sleeps, then says so: long enough to abort it while it runs."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@env.task(timeout=timedelta(seconds=1))
async def overrun(seconds: float) -> str:
    """Declares a 1 s timeout and sleeps longer."""
    await asyncio.sleep(seconds)
    return "finished"
