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


@env.task
async def sleep_in_child(pid_file: str, seconds: float) -> str:
    """Sleeps in a child process of its own (its pid written to pid_file): an abort must end that one too."""
    child = await asyncio.create_subprocess_exec("sleep", str(seconds))
    with open(pid_file, "w") as out:
        out.write(str(child.pid))
    await child.wait()
    return "child slept"
