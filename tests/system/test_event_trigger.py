"""Flyte executions that Airflow did not launch start DAG runs: FlyteExecutionEventTrigger in an
AssetWatcher, with a real scheduler, dag-processor, triggerer and api-server (SQLite), and a
LocalFlyteAdmin of this module's own, so every execution of ``simple.sleepy_wf`` here is the test's.
Executions are launched with flytekit's FlyteRemote, as a notebook or another tool would.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from airflow_provider_flyte.events.payload import FlyteExecutionEvent
from tests.airflow_processes import BIN, Airflow, ApiError, airflow_env, free_port, wait_for

pytestmark = [pytest.mark.timeout(300)]

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORKFLOWS = REPO / "tests" / "workflows" / "simple.py"
CONSUMER = "flyte_naps_consumer"
P, D = "flytesnacks", "development"


@pytest.fixture(scope="module")
def admin():
    from airflow_provider_flyte.local_admin import LocalFlyteAdmin

    with LocalFlyteAdmin(workflows=[WORKFLOWS], project=P, domain=D, port=0, parallelism=8) as local:
        yield local


@pytest.fixture(scope="module")
def airflow(admin):
    home = Path(tempfile.mkdtemp(prefix="airflow-events-"))
    host, port = admin.endpoint.rsplit(":", 1)
    api_port = free_port()
    connection = {"conn_type": "flyte", "host": host, "port": int(port), "extra": {"insecure": True}}
    settings = {
        "AIRFLOW_CONN_FLYTE_CONN": json.dumps(connection),
        # a killed triggerer's triggers move to a live one after this many seconds without a heartbeat
        "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "6",
    }
    env = airflow_env(home, api_port, HERE / "event_dags", settings=settings)
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True, timeout=120)
    cluster = Airflow(home, env, f"http://127.0.0.1:{api_port}", dag_id=CONSUMER, task_id="started_for")
    try:
        cluster.start("api-server", "--port", str(api_port), "--host", "127.0.0.1")
        cluster.start("dag-processor")
        cluster.start("scheduler", "--skip-serve-logs")
        cluster.start("triggerer", "--skip-serve-logs")
        cluster.wait_for_dag(CONSUMER)
        yield cluster
    except BaseException:
        print(cluster.diagnostics())
        raise
    finally:
        cluster.stop_all()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def remote(admin):
    from flytekit.configuration import Config, PlatformConfig
    from flytekit.remote import FlyteRemote

    return FlyteRemote(
        Config(platform=PlatformConfig(endpoint=admin.endpoint, insecure=True)), default_project=P, default_domain=D
    )


def nap(remote, seconds: float) -> str:
    launch_plan = remote.fetch_launch_plan(name="simple.sleepy_wf")
    name = "nap-" + secrets.token_hex(5)
    remote.execute(launch_plan, inputs={"seconds": seconds}, execution_name=name)
    return name


def sent(airflow: Airflow) -> list[str]:
    """The execution of each asset event Airflow recorded, oldest first."""
    try:
        events = airflow.request("GET", "/api/v2/assets/events?limit=100&order_by=timestamp")["asset_events"]
    except ApiError as error:
        if error.code != 500:
            raise
        return []  # seen on SQLite while the scheduler writes the events' runs: the next look answers
    return [FlyteExecutionEvent.from_payload(event["extra"]).execution.name for event in events]


def stored_cursor(airflow: Airflow) -> dict:
    """The watcher's cursor as the asset state store holds it (empty if none yet)."""
    (asset,) = airflow.request("GET", "/api/v2/assets?name_pattern=flyte_naps")["assets"]
    found = airflow.get_or_none(f"/api/v2/assets/{asset['id']}/state-store/flyte_execution_events")
    return json.loads(found["value"]) if found and isinstance(found.get("value"), str) else (found or {}).get("value") or {"emitted": {}}


def wait_sent(airflow: Airflow, count: int, timeout: float = 120.0) -> list[str]:
    return wait_for(f"{count} asset events", lambda: len(names := sent(airflow)) >= count and names, timeout)


def ended(admin, names: list[str]) -> bool:
    return all(admin.get_execution(name).closure.phase == 4 for name in names)  # SUCCEEDED


def test_every_ended_execution_makes_one_event_also_across_a_killed_triggerer(airflow, admin, remote):
    polls = admin.rpc_counts.get("ListExecutions", 0)
    wait_for("the watcher's first polls", lambda: admin.rpc_counts.get("ListExecutions", 0) >= polls + 2, 120)

    before = [nap(remote, 0.1) for _ in range(3)]
    assert sorted(wait_sent(airflow, 3)) == sorted(before)
    # The cursor is stored once Airflow confirms the events: kill after that (killed in the second
    # between, the triggerer would send the last event again after its restart; docs/events.md).
    recorded = time.monotonic()
    wait_for("the cursor to be stored", lambda: set(before) <= set(stored_cursor(airflow)["emitted"]), 30, every=0.2)
    print(f"[events] cursor stored {time.monotonic() - recorded:.1f} s after the third asset event was seen")

    finishing = [nap(remote, 6.0) for _ in range(3)]  # still running when the triggerer dies
    airflow.kill("triggerer")
    during = [nap(remote, 0.1) for _ in range(2)]
    wait_for("the executions to end while no triggerer runs", lambda: ended(admin, finishing + during), 60)
    assert len(sent(airflow)) == 3, "no triggerer ran, so nothing could be sent yet"
    airflow.start_again("triggerer")

    everything = before + finishing + during
    wait_sent(airflow, len(everything))
    time.sleep(5)  # more polls of the new triggerer: nothing is sent again
    names = sent(airflow)
    assert sorted(names) == sorted(everything), "each execution exactly once"

    def started_for() -> list[str] | None:
        """The executions of the consumer's runs' asset events, once every run has finished and
        they account for every event (Airflow may fold events that arrive together into one run)."""
        runs = airflow.dag_runs(CONSUMER)
        if not runs or any(run["state"] not in ("success", "failed") for run in runs):
            return None
        assert [run["state"] for run in runs] == ["success"] * len(runs)
        names = []
        for run in runs:
            path = f"/api/v2/dags/{CONSUMER}/dagRuns/{run['dag_run_id']}/upstreamAssetEvents"
            names += [FlyteExecutionEvent.from_payload(e["extra"]).execution.name for e in airflow.request("GET", path)["asset_events"]]
        return names if len(names) >= len(everything) else None

    assert sorted(wait_for("the consumer's runs to take every event", started_for, 120)) == sorted(everything)
    print(f"[events] {len(everything)} executions, {len(airflow.dag_runs(CONSUMER))} runs of the consumer DAG")
