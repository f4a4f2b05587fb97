"""Run a DAG whose Flyte2Operator waits on a long run, in its own process, so a test can SIGTERM
it the way Airflow's supervisor stops a task."""

from __future__ import annotations

import sys

from tests.airflow_runs import run_dag
from tests.flyte2.dags import flyte2_dag

if __name__ == "__main__":
    dag = flyte2_dag(sys.argv[1], "provider.nap", {"seconds": 60.0}, poll_interval=0.5)
    run = run_dag(dag)
    print(f"DAG RUN STATE {run.state}", flush=True)
