"""A training pipeline whose last step talks to a flaky service.

``train`` is the expensive node; ``publish`` pushes the model to a registry that is unavailable
on the first attempt (simulated with a file in ``state_dir``). When the Airflow task retries,
FlyteOperator recovers the failed execution instead of relaunching it, so ``train`` does not run
again: ``train_runs`` in ``state_dir`` stays at one line.
"""

from __future__ import annotations

from pathlib import Path

from flytekit import task, workflow

from flyte_workflows.ml_workflow import Metrics, load_iris, split, train_and_evaluate


@task
def record_training(state_dir: str, metrics: Metrics) -> Metrics:
    with open(Path(state_dir) / "train_runs", "a") as runs:
        runs.write(f"k={metrics.k} accuracy={metrics.accuracy}\n")
    return metrics


@task
def publish(state_dir: str, metrics: Metrics) -> str:
    attempts = Path(state_dir) / "publish_attempts"
    with open(attempts, "a") as f:
        f.write("attempt\n")
    if attempts.read_text().count("attempt") == 1:
        raise ConnectionError("model registry unavailable (simulated on the first attempt)")
    return f"registry://iris-knn/k{metrics.k}"


@workflow
def train_and_publish(state_dir: str, k: int = 5) -> str:
    data = load_iris()
    parts = split(data=data, test_fraction=0.3, seed=42)
    metrics = record_training(state_dir=state_dir, metrics=train_and_evaluate(train=parts.train, test=parts.test, k=k))
    return publish(state_dir=state_dir, metrics=metrics)
