"""A task whose function raises, for the run's error_info."""

import os

import flyte

env = flyte.TaskEnvironment(name="failing")


@env.task
def divide(x: int, y: int) -> float:
    """Raises ZeroDivisionError for y=0 (saying first what it does, for the run's log)."""
    print(f"dividing {x} by {y}", flush=True)
    if y == 0:
        raise ZeroDivisionError(f"cannot divide {x} by zero")
    return x / y


@env.task
def exit_hard(code: int) -> int:
    """Ends its process at once, reporting nothing (as a crash would)."""
    os._exit(code)
