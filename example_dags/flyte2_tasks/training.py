"""Flyte 2 tasks the Flyte 2 example (example_flyte2.py) runs: deploy them with ``flyte deploy``
(or serve them with ``flyte2-local-service --tasks example_dags/flyte2_tasks``).

Deployed as ``training.<function>`` (environment name, then function name).
"""

from __future__ import annotations

import flyte

env = flyte.TaskEnvironment(name="training")


@env.task
def fit(epochs: int, learning_rate: float = 0.1, tags: list[str] | None = None) -> dict[str, float]:
    """A stand-in for training: a loss that falls with every epoch, and the settings it used."""
    loss = 1.0
    for _ in range(epochs):
        loss *= 1.0 - learning_rate
    return {"loss": round(loss, 6), "epochs": float(epochs), "tags": float(len(tags or []))}
