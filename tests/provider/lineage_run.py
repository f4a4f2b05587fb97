"""Run one FlyteOperator DAG in a process of its own with Airflow's OpenLineage provider switched
on (file transport), as a worker configured for lineage runs it. Used by test_lineage.py: the
OpenLineage provider reads its configuration once per process.

argv: dag_id, deferrable (0/1), fail (0/1); the connection and transport come from the environment.
"""

from __future__ import annotations

import sys
from datetime import datetime

from airflow.sdk import DAG, Asset

from airflow_provider_flyte.operators.flyte import FlyteOperator
from tests.airflow_runs import run_dag

SCORES = Asset("s3://lake/scores/daily.parquet")

if __name__ == "__main__":
    dag_id, deferrable, fail = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
    with DAG(dag_id=dag_id, schedule=None, start_date=datetime(2024, 1, 1)) as dag:
        FlyteOperator(
            task_id="score",
            flyte_conn_id="flyte_conn",
            launchplan_name="lineage.score_wf",
            inputs={"raw": "s3://lake/raw/iris.csv", "model": "s3://models/knn/", "fail": fail},
            deferrable=deferrable,
            poll_interval=0.5,
            retries=0,
            outlets=[SCORES],
            outlet_outputs=["o0"],
        )
    run = run_dag(dag)
    print(f"DAG RUN STATE {run.state}", flush=True)
