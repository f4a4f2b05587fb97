"""A small Flyte ML pipeline: load the Iris data in ``example_dags/data``, split it with a seed,
train a k-nearest-neighbours classifier, evaluate it and return typed metrics.

Pure Python on purpose (no numpy or scikit-learn), so the example runs wherever flytekit does.
flytekit names it after its module path from ``example_dags/`` (the first directory without
``__init__.py``): launch plan ``flyte_workflows.ml_workflow.training_workflow``. Register it on the
local admin with::

    flyte-local-admin --port 30080 --workflows example_dags/flyte_workflows/ml_workflow.py
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from flytekit import task, workflow

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "iris.csv"


@dataclass
class Dataset:
    features: list[list[float]]
    labels: list[str]


@dataclass
class Metrics:
    accuracy: float
    per_class_recall: dict[str, float]
    n_train: int
    n_test: int
    k: int


class Split(NamedTuple):
    train: Dataset
    test: Dataset


@task
def load_iris() -> Dataset:
    with DATA_FILE.open() as f:
        rows = list(csv.DictReader(f))
    features = [[float(r[c]) for c in ("sepal_length", "sepal_width", "petal_length", "petal_width")] for r in rows]
    return Dataset(features=features, labels=[r["species"] for r in rows])


@task
def split(data: Dataset, test_fraction: float, seed: int) -> Split:
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    order = list(range(len(data.labels)))
    random.Random(seed).shuffle(order)
    n_test = max(1, round(len(order) * test_fraction))
    pick = lambda idx: Dataset([data.features[i] for i in idx], [data.labels[i] for i in idx])  # noqa: E731
    return Split(train=pick(order[n_test:]), test=pick(order[:n_test]))


def _predict(train: Dataset, point: list[float], k: int) -> str:
    nearest = sorted(range(len(train.labels)), key=lambda i: math.dist(train.features[i], point))[:k]
    return Counter(train.labels[i] for i in nearest).most_common(1)[0][0]


@task
def train_and_evaluate(train: Dataset, test: Dataset, k: int) -> Metrics:
    if k < 1 or k > len(train.labels):
        raise ValueError(f"k must be between 1 and {len(train.labels)}, got {k}")
    predictions = [_predict(train, x, k) for x in test.features]
    hits = [p == y for p, y in zip(predictions, test.labels, strict=True)]
    recall = {
        label: round(sum(h for h, y in zip(hits, test.labels, strict=True) if y == label) / test.labels.count(label), 4)
        for label in sorted(set(test.labels))
    }
    return Metrics(
        accuracy=round(sum(hits) / len(hits), 4),
        per_class_recall=recall,
        n_train=len(train.labels),
        n_test=len(test.labels),
        k=k,
    )


@workflow
def training_workflow(k: int = 5, test_fraction: float = 0.3, seed: int = 42) -> Metrics:
    data = load_iris()
    parts = split(data=data, test_fraction=test_fraction, seed=seed)
    return train_and_evaluate(train=parts.train, test=parts.test, k=k)
