"""`make demo`: the example DAG in real Airflow 3 against the local Flyte admin.

1. starts ``flyte-local-admin`` on 127.0.0.1:30080 with the example workflows
   (``example_dags/flyte_workflows/``; a subprocess, exactly as a user would run it);
2. points the ``flyte_conn`` connection at it (an AIRFLOW_CONN_ environment variable);
3. parses ``example_dags/`` (the DAG folder docker-compose.yaml mounts) and runs
   ``example_flyte_ml`` with ``dag.test()`` in an Airflow home inside the repo (``.airflow_home``,
   git-ignored, SQLite);
4. prints the Flyte execution name, its final phase and outputs, stops the admin.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "example_dags"
WORKFLOWS = sorted((EXAMPLES / "flyte_workflows").glob("*_workflow.py"))
PORT = int(os.environ.get("FLYTE_DEMO_PORT", "30080"))  # 0: any free port
HOME = Path(os.environ.get("FLYTE_DEMO_AIRFLOW_HOME", REPO / ".airflow_home"))
sys.path.insert(0, str(REPO))  # tests/airflow_runs.py: parsing and running DAGs on each Airflow 3 release


def free_or_any(port: int) -> int:
    """``port`` if nothing listens there, else 0 (any free port), saying so in one line."""
    if port == 0:
        return 0
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) != 0:
            return port
    print(f"Port {port} is in use; the local Flyte admin takes a free port instead (FLYTE_DEMO_PORT to choose one)")
    return 0


def start_admin() -> tuple[subprocess.Popen[str], int]:
    admin = subprocess.Popen(
        [str(Path(sys.executable).parent / "flyte-local-admin"), "--port", str(free_or_any(PORT)),
         "--workflows", *map(str, WORKFLOWS)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    assert admin.stdout is not None
    line = admin.stdout.readline().strip()
    if not line.startswith("FlyteAdmin listening on"):
        admin.kill()
        sys.exit(f"local Flyte admin did not start (got {line!r})")
    print(line, flush=True)
    return admin, int(line.rsplit(":", 1)[1])


def configure_airflow(port: int) -> None:
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir()
    os.environ.update(
        {
            "AIRFLOW_HOME": str(HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLES),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # Airflow's INFO lines would bury the summary; the task's own story is in the task log.
            "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("FLYTE_DEMO_LOG_LEVEL", "WARNING"),
            "AIRFLOW_CONN_FLYTE_CONN": json.dumps(
                {"conn_type": "flyte", "host": "127.0.0.1", "port": port,
                 "extra": {"insecure": True, "project": "flytesnacks", "domain": "development"}}
            ),
        }
    )


def examples_for_this_airflow() -> list[Path]:
    """The example DAG files this Airflow can parse, saying in one line which it leaves out.

    Airflow 3.0 has no human-in-the-loop operators (the standard provider raises "needs Airflow
    3.1+" on import), so the examples that compose with them are Airflow 3.1+ only; every other
    example must parse on every supported release.
    """
    from airflow_provider_flyte.compat import AIRFLOW_3_1_PLUS

    files = sorted(EXAMPLES.glob("example_*.py"))
    if AIRFLOW_3_1_PLUS:
        return files
    newer = [path for path in files if "airflow.providers.standard.operators.hitl" in path.read_text()]
    if newer:
        print(f"Left out (they need Airflow 3.1+ human-in-the-loop): {', '.join(path.name for path in newer)}")
    return [path for path in files if path not in newer]


def main() -> int:
    admin, port = start_admin()
    configure_airflow(port)
    try:
        from airflow.dag_processing.bundles.manager import DagBundlesManager
        from airflow.utils import db

        from airflow_provider_flyte.hooks.flyte import FlyteHook
        from tests.airflow_runs import dag_bag, sync_to_db, xcom

        db.initdb()
        DagBundlesManager().sync_bundles_to_db()
        bag = dag_bag(EXAMPLES, collect_dags=False)
        for path in examples_for_this_airflow():
            bag.collect_dags(dag_folder=str(path), only_if_updated=False, safe_mode=False)
        if bag.import_errors:
            sys.exit(f"example_dags/ does not parse: {bag.import_errors}")
        sync_to_db(bag)
        dag = bag.dags["example_flyte_ml"]

        print("Running example_flyte_ml through dag.test() (Airflow logs at WARNING; FLYTE_DEMO_LOG_LEVEL=INFO for all)")
        run = dag.test()
        name = xcom(run, "train_model")
        state = FlyteHook("flyte_conn").get_execution("flytesnacks", "development", name) if name else None
        outputs = xcom(run, "train_model", key="outputs")
        print("\n=== airflow-provider-flyte demo ===")
        print(f"Airflow DAG run : {run.dag_id} / {run.run_id} -> {run.state}")
        print(f"Flyte execution : {name}")
        print(f"Final phase     : {state.phase if state else 'never launched'}")
        print(f"Console URL     : {state.url if state else '-'}")
        print(f"Outputs         : {json.dumps(outputs, indent=2, sort_keys=True)}")
        return 0 if run.state == "success" and state and state.phase == "SUCCEEDED" else 1
    finally:
        admin.terminate()
        admin.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
