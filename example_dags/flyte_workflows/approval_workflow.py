"""Training that waits for a person before it deploys: a Flyte ``approve`` gate.

``train_then_deploy`` trains, then pauses on the gate ``deploy-model`` until someone approves or
rejects it (from Flyte, FlyteRemote, or Airflow: ``example_flyte_approval``); a rejection fails the
execution, no answer within the gate's timeout too.
"""

from __future__ import annotations

from datetime import timedelta

from flytekit import approve, task, workflow

from flyte_workflows.ml_workflow import Metrics, load_iris, split, train_and_evaluate


@task
def deploy(metrics: Metrics) -> str:
    return f"deployed the k={metrics.k} model (accuracy {metrics.accuracy:.3f})"


@workflow
def train_then_deploy(k: int = 5, seed: int = 42) -> str:
    parts = split(data=load_iris(), test_fraction=0.3, seed=seed)
    metrics = train_and_evaluate(train=parts.train, test=parts.test, k=k)
    approved = approve(metrics, "deploy-model", timeout=timedelta(hours=1))
    return deploy(metrics=approved)
