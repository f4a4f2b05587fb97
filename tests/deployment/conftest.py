"""Fixtures of the deployment suite (see ``harness.py`` for the pieces and ``README.md`` here).

Package scope, built once for every scenario module here and torn down when pytest leaves this
folder (so nothing of it runs during the rest of ``make test``): ``postgres`` (a PostgreSQL 15
server of our own), ``admin`` (LocalFlyteAdmin with client-credentials auth and a state dir, in this
process) and ``airflow`` (migrated database, api-server, scheduler with LocalExecutor,
dag-processor, one triggerer). Function scope: ``deployment``, which scenarios take: it checks every
component is up and healthy first, and afterwards times the scenario, puts the topology back (extra
processes stopped, dead or frozen ones restarted or thawed, each waited for) and marks failed
whatever runs the scenario left unfinished.
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.deployment.harness import (
    ADMIN_PARALLELISM,
    CLIENT_ID,
    CLIENT_SECRET,
    DOMAIN,
    FIGURES,
    PROJECT,
    WALL_TIMES,
    WORKFLOWS,
    Deployment,
    record_wall_time,
    start_airflow,
)
from tests.deployment.postgres import start_postgres


@pytest.fixture(scope="package")
def postgres():
    started = time.monotonic()
    with start_postgres() as server:
        record_wall_time("postgres initdb + start", time.monotonic() - started)
        yield server


@pytest.fixture(scope="package")
def admin(tmp_path_factory):
    from airflow_provider_flyte.local_admin import ClientSecretAuth, LocalFlyteAdmin

    with LocalFlyteAdmin(
        workflows=[WORKFLOWS],
        project=PROJECT,
        domain=DOMAIN,
        port=0,
        parallelism=ADMIN_PARALLELISM,
        auth=ClientSecretAuth(CLIENT_ID, CLIENT_SECRET),
        state_dir=tmp_path_factory.mktemp("flyte-admin-state"),
    ) as local:
        yield local


@pytest.fixture(scope="package")
def airflow(postgres, admin):
    started = time.monotonic()
    with start_airflow(postgres, admin) as cluster:
        record_wall_time("set-up (db migrate + components)", time.monotonic() - started)
        yield cluster


@pytest.fixture
def deployment(request, airflow, admin, postgres):
    baseline = {name: process.args for name, process in airflow.processes.items()}
    found = Deployment(airflow, admin, postgres)
    request.node.deployment = found  # for the failure report (pytest_runtest_makereport below)
    airflow.wait_healthy(timeout=120)
    started = time.monotonic()
    yield found
    record_wall_time(request.node.name, time.monotonic() - started)
    _restore(airflow, baseline)
    _end_unfinished_runs(airflow)


def _end_unfinished_runs(airflow) -> None:
    for run in airflow.dag_runs(states=("queued", "running")):
        airflow.patch_run(run["dag_run_id"], "failed", dag_id=run["dag_id"])


def _restore(airflow, baseline: dict[str, list[str]]) -> None:
    for name, process in list(airflow.processes.items()):
        process.signal(signal.SIGCONT)  # a scenario may have frozen it with SIGSTOP
        if name not in baseline:
            airflow.stop(name)
    restarted = airflow.ensure_running()
    for name in baseline.keys() - airflow.processes.keys():
        airflow.start_again(name)
        restarted.append(name)
    for name in restarted:
        airflow.wait_up(name)
    airflow.wait_healthy(timeout=120)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    found = getattr(item, "deployment", None)
    if report.failed and found is not None:
        try:
            report.sections.append(("deployment diagnostics", found.diagnostics()))
        except Exception as error:  # noqa: BLE001 - diagnostics must never hide the failure
            report.sections.append(("deployment diagnostics", f"unavailable: {error!r}"))


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("deployment figures")
        for line in FIGURES:
            terminalreporter.write_line(f"[deployment] {line}")
    if WALL_TIMES:
        terminalreporter.section("deployment wall times")
        for what, seconds in WALL_TIMES:
            terminalreporter.write_line(f"[deployment] {what}: {seconds:.1f} s")
