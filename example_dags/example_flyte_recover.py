"""A failing Flyte execution retried by Airflow with recovery.

The first try's execution fails in its last node. Airflow retries the task; FlyteOperator finds
the failed execution under its deterministic name and calls RecoverExecution, so only the failed
node runs again. ``check_training_ran_once`` proves it from the workflow's own record.

The Airflow tasks and the Flyte execution share a directory, so this example needs them on one
file system: the local admin on the same machine, or in docker-compose.yaml a volume mounted in
both at ``FLYTE_EXAMPLES_SHARED_DIR`` (the system temporary directory when unset).
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG, task

from airflow_provider_flyte.operators.flyte import FlyteOperator

with DAG(
    dag_id="example_flyte_recover",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["flyte", "example"],
) as dag:

    @task
    def make_state_dir() -> str:
        shared = os.environ.get("FLYTE_EXAMPLES_SHARED_DIR") or None
        return tempfile.mkdtemp(prefix="flyte-recover-example-", dir=shared)

    state_dir = make_state_dir()

    publish = FlyteOperator(
        task_id="train_and_publish",
        flyte_conn_id="flyte_conn",
        project="flytesnacks",
        domain="development",
        launchplan_name="flyte_workflows.publish_workflow.train_and_publish",
        inputs={"state_dir": state_dir, "k": 5},
        retries=1,
        retry_delay=timedelta(seconds=0),
        recover_on_retry=True,
    )

    @task
    def check_training_ran_once(state_dir: str) -> int:
        runs = (Path(state_dir) / "train_runs").read_text().splitlines()
        print(f"training ran {len(runs)} time(s): {runs}")
        if len(runs) != 1:
            raise RuntimeError(f"expected the recovered execution to reuse training, it ran {len(runs)} times")
        return len(runs)

    publish >> check_training_ran_once(state_dir)
