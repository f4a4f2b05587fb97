"""Workflows whose typed values name data: a file in, a structured dataset with columns out.

Nothing is read or written: the values are URIs in a bucket this machine has no access to, which
is all lineage looks at (and what flytekit passes through without downloading).
"""

from __future__ import annotations

from typing import Annotated

from flytekit import kwtypes, task, workflow
from flytekit.types.directory import FlyteDirectory
from flytekit.types.file import FlyteFile
from flytekit.types.structured import StructuredDataset

Scores = Annotated[StructuredDataset, kwtypes(sample_id=str, score=float)]
SCORES_URI = "s3://lake/scores/daily.parquet"


@task
def score(raw: FlyteFile, model: FlyteDirectory, fail: bool) -> Scores:
    if fail:
        raise ValueError("the model refused the data")
    return StructuredDataset(uri=SCORES_URI, file_format="parquet")


@workflow
def score_wf(raw: FlyteFile, model: FlyteDirectory, fail: bool = False) -> Scores:
    return score(raw=raw, model=model, fail=fail)
