"""example_dags/example_flyte2.py runs green against the local Flyte 2 run service, as parsed from
the example folder."""

from __future__ import annotations

from tests.airflow_runs import run_dag, xcom
from tests.conftest import example_dag


def test_the_flyte2_example_runs_the_task_and_reports_its_outputs(airflow_db, flyte2_conn, flyte2_service):
    run = run_dag(example_dag("example_flyte2"))

    assert run.state == "success"
    assert flyte2_service.run(xcom(run, "fit")).task_name == "training.fit"
    assert xcom(run, "fit", key="outputs") == {"o0": {"loss": 0.32768, "epochs": 5.0, "tags": 2.0}}
    assert xcom(run, "report") == 0.32768
