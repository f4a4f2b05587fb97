"""How long the classic "FlyteOperator then FlyteSensor" DAG takes over a two-second execution.

Runs the DAG twice through real Airflow 3 (dag.test on SQLite) against the local admin:
with this provider's defaults (adaptive polling), and with the fixed 60 s sensor poke that
airflow-provider-flyte 0.0.5 users got by default (operator returns at once, sensor waits).
Prints both wall times and their ratio, measured in the same run.

    .venv/bin/python bench/classic_dag.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
home = Path(tempfile.mkdtemp(prefix="bench-airflow-"))
(home / "dags").mkdir()
os.environ.update(
    AIRFLOW_HOME=str(home), AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"), AIRFLOW__CORE__LOAD_EXAMPLES="False"
)
sys.path.insert(0, str(REPO))


def classic_dag(dag_id: str, **sensor_kwargs):
    from airflow.sdk import DAG

    from airflow_provider_flyte.operators.flyte import FlyteOperator
    from airflow_provider_flyte.sensors.flyte import FlyteSensor

    with DAG(dag_id=dag_id, schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        op = FlyteOperator(
            task_id="launch", flyte_conn_id="flyte_conn", project="flytesnacks", domain="development",
            launchplan_name="simple.sleepy_wf", inputs={"seconds": 2.0},
            wait_for_termination=sensor_kwargs.pop("operator_waits", True),
        )
        FlyteSensor(task_id="sense", execution_name=op.output, project="flytesnacks", domain="development",
                    flyte_conn_id="flyte_conn", **sensor_kwargs)
    return dag


def timed(dag) -> float:
    from tests.airflow_runs import run_dag

    started = time.monotonic()
    run = run_dag(dag)
    assert run.state == "success", run.state
    return time.monotonic() - started


def main() -> None:
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.utils import db

    from airflow_provider_flyte.local_admin import LocalFlyteAdmin

    db.initdb()
    DagBundlesManager().sync_bundles_to_db()
    with LocalFlyteAdmin(workflows=[REPO / "tests" / "workflows" / "simple.py"], port=0) as admin:
        host, port = admin.endpoint.rsplit(":", 1)
        os.environ["AIRFLOW_CONN_FLYTE_CONN"] = json.dumps(
            {"conn_type": "flyte", "host": host, "port": int(port), "extra": {"insecure": True}}
        )
        timed(classic_dag("warmup"))
        ours = timed(classic_dag("classic_defaults"))
        legacy = timed(classic_dag("classic_fixed_60s", operator_waits=False, poke_interval=60))
    print(f"classic operator+sensor DAG over a 2 s execution, defaults      : {ours:6.1f} s")
    print(f"same DAG, operator returns at once + sensor poking every 60 s : {legacy:6.1f} s")
    print(f"ratio (fixed 60 s / adaptive defaults)                         : {legacy / ours:6.1f}x")


if __name__ == "__main__":
    main()
