"""DAG files that use the provider as the README shows type-check (the package ships py.typed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

README_DAG = '''
from airflow.sdk import DAG
from airflow_provider_flyte.operators.flyte import FlyteOperator
from airflow_provider_flyte.sensors.flyte import FlyteSensor

with DAG("train", schedule=None):
    train = FlyteOperator(
        task_id="train",
        flyte_conn_id="flyte_conn",
        project="flytesnacks",
        domain="development",
        launchplan_name="my_pkg.workflows.training_workflow",
        inputs={"k": 5, "seed": 42},
    )
    wait = FlyteSensor(
        task_id="wait",
        execution_name=train.output,
        project="flytesnacks",
        domain="development",
        flyte_conn_id="flyte_conn",
    )
    train >> wait
'''


def test_the_readme_dag_type_checks_with_mypy(tmp_path: Path):
    dag_file = tmp_path / "readme_dag.py"
    dag_file.write_text(README_DAG)

    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent", "--ignore-missing-imports", str(dag_file)],
        capture_output=True, text=True, timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_package_is_marked_typed():
    import airflow_provider_flyte

    assert (Path(airflow_provider_flyte.__file__).parent / "py.typed").is_file()
