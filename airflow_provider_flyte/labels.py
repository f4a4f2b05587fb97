"""Labels that tie a Flyte execution to the Airflow task instance that launched it.

They let people find an execution's DAG from the Flyte console, and let the operator refuse to
adopt an execution launched by another task instance (a static ``execution_name`` reused by the
next DAG run, or by every map index of a mapped task) instead of silently taking its outputs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_flyte.exceptions import FlyteProviderError

_LABEL_VALUE = re.compile(r"[^A-Za-z0-9_.-]+")
# The labels that identify a task instance; the try number is informative only.
IDENTITY = ("airflow-dag-id", "airflow-run-id", "airflow-task-id", "airflow-map-index")


def k8s_label_value(value: str) -> str:
    """Flyte labels become Kubernetes labels: <= 63 chars of [A-Za-z0-9_.-], alphanumeric at both ends."""
    return _LABEL_VALUE.sub("-", value)[:63].strip("-_.")


def airflow_labels(ti: Any) -> dict[str, str]:
    map_index = ti.map_index if ti.map_index is not None else -1
    return {
        "airflow-dag-id": k8s_label_value(ti.dag_id),
        "airflow-run-id": k8s_label_value(ti.run_id),
        "airflow-task-id": k8s_label_value(ti.task_id),
        "airflow-map-index": str(map_index).replace("-", "m"),
        "airflow-try-number": str(ti.try_number),
    }


def check_owned(
    name: str, labels: Mapping[str, str], ti: Any, what: str = "Flyte execution", field: str = "execution_name"
) -> None:
    """Refuse an execution whose labels name another task instance (unlabelled ones are accepted:
    they were launched outside Airflow under a name the user chose). ``what`` and ``field`` name
    it as the caller does (a Flyte 2 run and its ``run_name``)."""
    ours = airflow_labels(ti)
    theirs = {key: labels[key] for key in IDENTITY if key in labels}
    mismatched = {key: value for key, value in theirs.items() if value != ours[key]}
    if mismatched:
        raise FlyteProviderError(
            f"{what} {name!r} belongs to another task instance ({theirs}), not to this one "
            f"({ {key: ours[key] for key in IDENTITY} }); give each run and map index its own {field} "
            "(e.g. template it with {{ run_id }} and {{ ti.map_index }}) or leave it unset"
        )
