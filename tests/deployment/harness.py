"""The production topology on this machine: Postgres, api-server, scheduler (LocalExecutor),
dag-processor and triggerer(s) as separate processes, and a FlyteAdmin with client-credentials
auth in the test process.

Fixtures are in ``conftest.py``; this module holds what scenarios import: ``Deployment`` (what the
``deployment`` fixture gives), run-id and execution-name helpers, and ``wall_time``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flyteidl.admin.execution_pb2 import Execution
from flyteidl.core.execution_pb2 import WorkflowExecution

from airflow_provider_flyte.naming import execution_name
from tests.airflow_processes import BIN, Airflow, free_port
from tests.airflow_processes import airflow_env as processes_env
from tests.deployment.postgres import Postgres

Phase = WorkflowExecution.Phase  # Phase.RUNNING, Phase.ABORTED, Phase.Name(n)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DAGS = HERE / "dags"
WORKFLOWS = REPO / "tests" / "workflows" / "simple.py"
PROJECT, DOMAIN = "flytesnacks", "development"
CLIENT_ID, CLIENT_SECRET = "airflow-deployment", "dep/s3cret:+"
CONN_ID = "flyte_conn"
ADMIN_PARALLELISM = 24  # Flyte executions running at once
AIRFLOW_PARALLELISM = 8  # LocalExecutor worker slots
LOAD_DAG = "flyte_load"
ABORT_PHASES = frozenset({Phase.ABORTING, Phase.ABORTED})

# (what, seconds) in the order measured; conftest prints them in the terminal summary.
WALL_TIMES: list[tuple[str, float]] = []


# Figures a scenario reports (e.g. executions terminated / owed and delays), printed likewise.
FIGURES: list[str] = []


def record_figure(line: str) -> None:
    FIGURES.append(line)
    print(f"[deployment] {line}", flush=True)


def record_wall_time(what: str, seconds: float) -> None:
    WALL_TIMES.append((what, seconds))
    print(f"[deployment] {what}: {seconds:.1f} s", flush=True)


@contextmanager
def wall_time(what: str) -> Iterator[None]:
    """Time a block; prints ``[deployment] <what>: <seconds> s`` (and lists it in the summary)."""
    started = time.monotonic()
    try:
        yield
    finally:
        record_wall_time(what, time.monotonic() - started)


def new_run_id(prefix: str) -> str:
    """A run id that is also a valid Kubernetes label value, so ``airflow-run-id`` labels equal it."""
    return f"{prefix}-{secrets.token_hex(4)}"


def task_names(dag_id: str, run_id: str, task_id: str, map_indexes: Iterable[int] = (-1,)) -> set[str]:
    """The Flyte execution names of these task instances (first try)."""
    return {execution_name(dag_id, run_id, task_id, i) for i in map_indexes}


def connection_json(admin: Any) -> str:
    host, port = admin.endpoint.rsplit(":", 1)
    return json.dumps(
        {
            "conn_type": "flyte",
            "host": host,
            "port": int(port),
            "login": CLIENT_ID,
            "password": CLIENT_SECRET,
            "extra": {"insecure": True, "project": PROJECT, "domain": DOMAIN},
        }
    )


@dataclass
class Deployment:
    """What a scenario gets: the Airflow processes and their API, the FlyteAdmin, the database."""

    airflow: Airflow
    admin: Any  # LocalFlyteAdmin
    postgres: Postgres

    def run_executions(self, run_id: str) -> list[Execution]:
        """Flyte executions labelled with this Airflow run (``spec.labels["airflow-run-id"]``)."""
        return [e for e in self.admin.executions() if e.spec.labels.values.get("airflow-run-id") == run_id]

    def ever_aborted(self, names: Iterable[str]) -> dict[str, list[str]]:
        """Executions among ``names`` that were ever ABORTING or ABORTED, with their phase history."""
        found = {}
        for name in names:
            history = self.admin.phase_history(name)
            if ABORT_PHASES.intersection(history):
                found[name] = [Phase.Name(p) for p in history]
        return found

    def phases(self, names: Iterable[str]) -> Counter:
        """How many of ``names`` are in each phase now (by flyteidl name)."""
        return Counter(Phase.Name(self.admin.get_execution(n).closure.phase) for n in names)

    def trigger_rows(self) -> list[tuple[int, int | None, str]]:
        """``(trigger id, triggerer job id or None, classpath)`` straight from Airflow's ``trigger`` table."""
        return self.postgres.query("SELECT id, triggerer_id, classpath FROM trigger ORDER BY id")

    def diagnostics(self) -> str:
        return "\n".join([self.airflow.diagnostics(), admin_summary(self.admin), self.postgres.log_tail(15)])


def admin_summary(admin: Any) -> str:
    phases = Counter(Phase.Name(e.closure.phase) for e in admin.executions())
    return (
        f"--- flyte admin ---\nexecutions by phase: {dict(phases)}\nRPCs: {dict(admin.rpc_counts)}\n"
        f"token requests: {admin.tokens.requests}, issued: {admin.tokens.issued}"
    )


def airflow_env(home: Path, database_url: str, api_port: int, admin: Any, dags: Path = DAGS) -> dict[str, str]:
    """The environment every process of the deployment shares (one JWT secret, one execution API URL)."""
    return processes_env(
        home,
        api_port,
        dags,
        database_url=database_url,
        parallelism=AIRFLOW_PARALLELISM,
        settings={
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "256",
            f"AIRFLOW_CONN_{CONN_ID.upper()}": connection_json(admin),
        },
    )


def _migrate(env: dict[str, str], log: Path) -> None:
    with open(log, "wb") as out:
        done = subprocess.run(
            [str(BIN / "airflow"), "db", "migrate"],
            check=False,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        raise RuntimeError(f"airflow db migrate failed ({done.returncode}):\n{tail}")


@contextmanager
def start_airflow(postgres: Postgres, admin: Any, database: str = "airflow", triggerers: int = 1) -> Iterator[Airflow]:
    """Migrate a new database, start every component, wait until all are healthy and the load DAG is served.

    ``DEPLOYMENT_KEEP_HOME=1`` keeps AIRFLOW_HOME (process logs, task logs) after the session.
    """
    home = Path(tempfile.mkdtemp(prefix="airflow-deployment-"))
    api_port = free_port()
    env = airflow_env(home, postgres.create_database(database), api_port, admin)
    cluster = Airflow(home, env, f"http://127.0.0.1:{api_port}", dag_id=LOAD_DAG)
    try:
        with wall_time("airflow db migrate"):
            _migrate(env, cluster.logs / "db-migrate.log")
        with wall_time("components healthy, DAG served"):
            cluster.start("api-server", "--port", str(api_port), "--host", "127.0.0.1")
            cluster.start("dag-processor")
            cluster.start("scheduler", "--skip-serve-logs")
            for _ in range(triggerers):
                cluster.start_triggerer()
            for name in list(cluster.processes):
                cluster.wait_up(name, timeout=180)
            cluster.wait_healthy(timeout=60)
            cluster.wait_for_dag(LOAD_DAG, timeout=120)
        yield cluster
    except BaseException:
        print(cluster.diagnostics())
        print(postgres.log_tail())
        raise
    finally:
        cluster.stop_all()
        if os.environ.get("DEPLOYMENT_KEEP_HOME"):
            print(f"[deployment] AIRFLOW_HOME kept: {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
