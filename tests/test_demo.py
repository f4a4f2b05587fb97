"""`make demo` (demo/run_demo.py) runs the example DAG end to end and reports the outcome."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from tests.conftest import REPO


def test_the_demo_prints_the_succeeded_execution_and_its_outputs_even_with_its_port_taken(tmp_path):
    with socket.socket() as taken:  # as if another admin (or anything) held the demo's port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "FLYTE_DEMO_PORT": str(port), "FLYTE_DEMO_AIRFLOW_HOME": str(tmp_path / "home")}
        env.pop("AIRFLOW__CORE__DAGS_FOLDER", None)
        done = subprocess.run([sys.executable, "demo/run_demo.py"], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=300)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"Port {port} is in use; the local Flyte admin takes a free port instead" in done.stdout
    summary = done.stdout[done.stdout.index("=== airflow-provider-flyte demo ==="):]
    assert "Final phase     : SUCCEEDED" in summary and '"accuracy": 0.9778' in summary
    assert "Traceback" not in done.stdout + done.stderr
