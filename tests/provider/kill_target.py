"""Run a DAG whose FlyteOperator waits on a long execution, in its own process, so a test can
SIGTERM it the way Airflow's supervisor stops a task."""

from __future__ import annotations

import sys

from tests.airflow_runs import run_dag
from tests.provider.dags import single_launch_dag

if __name__ == "__main__":
    dag = single_launch_dag(sys.argv[1], "simple.sleepy_wf", {"seconds": 60.0}, poll_interval=0.5)
    run = run_dag(dag)
    print(f"DAG RUN STATE {run.state}", flush=True)
