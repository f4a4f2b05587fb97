"""Acting on a Flyte execution the moment it runs, from beside a DAG run the test is driving.

Phases are flyteidl's own names (``Phase.RUNNING``), never bare numbers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flyteidl.core.execution_pb2 import WorkflowExecution as Phase

__all__ = ["Phase", "running_execution", "when_running"]

NameMatch = str | Callable[[str], bool]


def _matches(match: NameMatch, name: str) -> bool:
    return match(name) if callable(match) else name == match


def running_execution(admin: Any, match: NameMatch, timeout: float = 60.0) -> Any:
    """The first execution whose name matches, once it is RUNNING."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for execution in admin.executions():
            if _matches(match, execution.id.name) and execution.closure.phase == Phase.RUNNING:
                return execution
        time.sleep(0.05)
    raise AssertionError(f"no execution matching {match!r} was RUNNING within {timeout:.0f}s")


@contextmanager
def when_running(admin: Any, match: NameMatch, action: Callable[[Any], None], timeout: float = 60.0) -> Iterator[None]:
    """Within the block, run ``action(execution)`` once, from a thread, as soon as an execution
    whose name matches is RUNNING; on leaving the block, fail if that never happened."""
    failures: list[BaseException] = []

    def act() -> None:
        try:
            action(running_execution(admin, match, timeout))
        except BaseException as err:  # reported on leaving the block
            failures.append(err)

    thread = threading.Thread(target=act, daemon=True)
    thread.start()
    yield
    thread.join(timeout)
    if failures:
        raise failures[0]
