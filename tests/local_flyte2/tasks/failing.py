"""A task whose function raises, for the run's error_info."""

import flyte

env = flyte.TaskEnvironment(name="failing")


@env.task
def divide(x: int, y: int) -> float:
    """Raises ZeroDivisionError for y=0."""
    if y == 0:
        raise ZeroDivisionError(f"cannot divide {x} by zero")
    return x / y
