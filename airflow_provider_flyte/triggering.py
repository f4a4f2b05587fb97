"""What the run triggers of Flyte 1 (``triggers.flyte``) and Flyte 2 (``flyte2.trigger``) share:
the check of their stored kwargs, and how ``on_kill`` stops the run it owns. (Beside the package
``triggers``, not in it: importing that package loads the event trigger, of no use to Flyte 2.)"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from airflow_provider_flyte.exceptions import FlyteProviderError

# The stop call of on_kill: short, and retried a little, so a killed task is not held up by it.
ON_KILL_CALL_TIMEOUT = 5.0
ON_KILL_RETRIES = 2
# Stops under way; referenced so the loop does not drop them when on_kill is cancelled.
_UNSTOPPABLE: set[asyncio.Task[None]] = set()


def check_kwargs(kwargs: dict[str, Any]) -> None:
    """Fail before deferring (and so before the triggerer stores them) on unserialisable kwargs."""
    for key, value in kwargs.items():
        if value is not None and not isinstance(value, (str, int, float)):
            raise FlyteProviderError(f"Trigger argument {key!r} must be a string or number, got {type(value).__name__}")
    for key in ("conn_id", "project", "domain", "name"):
        if not kwargs.get(key):
            raise FlyteProviderError(f"Trigger argument {key!r} must be a non-empty string")


def on_kill_budget() -> dict[str, Any]:
    """``timeout`` / ``retries`` of the stop call of on_kill."""
    return {"timeout": ON_KILL_CALL_TIMEOUT, "retries": ON_KILL_RETRIES}


async def run_unstoppable(stop: Coroutine[Any, Any, None]) -> None:
    """Await ``stop`` (on_kill's abort or terminate) as a task of its own.

    Airflow re-sends the cancel on every triggerer sync (about a second) until the trigger is
    gone, and a second cancel would end on_kill's coroutine; a cancel of the caller does not stop
    this task.
    """
    task = asyncio.get_running_loop().create_task(stop)
    _UNSTOPPABLE.add(task)
    task.add_done_callback(_UNSTOPPABLE.discard)
    await asyncio.shield(task)
