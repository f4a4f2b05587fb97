"""`make demo` (demo/run_demo.py) runs the example DAG end to end and reports the outcome."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO


def test_the_demo_prints_the_succeeded_execution_and_its_outputs(tmp_path):
    env = {**os.environ, "FLYTE_DEMO_PORT": "0", "FLYTE_DEMO_AIRFLOW_HOME": str(tmp_path / "home")}
    env.pop("AIRFLOW__CORE__DAGS_FOLDER", None)
    done = subprocess.run([sys.executable, "demo/run_demo.py"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Final phase     : SUCCEEDED" in done.stdout
    assert '"accuracy": 0.9778' in done.stdout
