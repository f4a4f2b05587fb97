"""DAG files written for airflow-provider-flyte 0.0.5 run unchanged (apart from Airflow 3's ``schedule=``)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from tests.airflow_runs import run_dag, xcom


@pytest.mark.parametrize(
    "old,new",
    [
        ("flyte_provider.operators.flyte", "airflow_provider_flyte.operators.flyte"),
        ("flyte_provider.sensors.flyte", "airflow_provider_flyte.sensors.flyte"),
        ("flyte_provider.hooks.flyte", "airflow_provider_flyte.hooks.flyte"),
    ],
)
def test_the_0_0_5_import_paths_warn_and_point_at_the_new_ones(old, new):
    done = subprocess.run(
        # The new module first: Airflow 3.0 takes over warnings.showwarning while it loads.
        [sys.executable, "-c", f"import warnings, {new}\nwith warnings.catch_warnings(record=True) as seen:\n"
         f"    warnings.simplefilter('always')\n    import {old}\n"
         "print([str(w.message) for w in seen if w.category is DeprecationWarning and 'flyte_provider' in str(w.message)])"],
        capture_output=True, text=True, check=True,
    )
    assert f"import from {new} instead" in done.stdout, done.stderr


def test_a_0_0_5_dag_file_runs_unchanged(airflow_db, flyte_conn):
    from airflow.sdk import DAG

    from flyte_provider.operators.flyte import FlyteOperator
    from flyte_provider.sensors.flyte import FlyteSensor

    with DAG(
        dag_id="example_flyte_0_0_5",
        schedule=None,
        start_date=datetime(2021, 1, 1),
        dagrun_timeout=timedelta(minutes=60),
        catchup=False,
    ) as dag:
        task = FlyteOperator(
            task_id="diabetes_predictions",
            flyte_conn_id="flyte_conn",
            project="flytesnacks",
            domain="development",
            launchplan_name="simple.double_wf",
            inputs={"x": 21},
        )
        sensor = FlyteSensor(
            task_id="sensor",
            execution_name=task.output,
            project="flytesnacks",
            domain="development",
            flyte_conn_id="flyte_conn",
        )
        task >> sensor

    run = run_dag(dag)

    assert run.state == "success"
    assert xcom(run, "diabetes_predictions", key="outputs") == {"o0": 42}
