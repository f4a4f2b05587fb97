"""A misconfigured connection fails at once and says why, in words, with the fix; a FlyteAdmin
that answered before is still waited out. Real gRPC against the local admin, plaintext and TLS.

Before: a wrong port took 15.9 s of UNAVAILABLE retries and ended in a bare ``_InactiveRpcError``;
TLS against a plaintext admin printed ``WRONG_VERSION_NUMBER`` C-core lines into the task log.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from airflow_provider_flyte.exceptions import FlyteAdminUnreachable
from airflow_provider_flyte.hooks.flyte import FlyteHook
from tests.conftest import DOMAIN, PROJECT, REPO, TEST_WORKFLOWS

P, D = PROJECT, DOMAIN
# Far below the 15.9 s of retries a wrong port used to cost (the connections keep retries=5).
FAILS_WITHIN = 3.0
TEST_CONNECTION_WITHIN = 5.0
# A gRPC C-core log line: severity, date, time, thread, source file and line.
C_CORE_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+\.(cc|h):\d+\]", re.MULTILINE)


@pytest.fixture(scope="module")
def tls_admin():
    from airflow_provider_flyte.local_admin import LocalFlyteAdmin

    with LocalFlyteAdmin(workflows=[TEST_WORKFLOWS], project=P, domain=D, port=0, tls=True) as admin:
        yield admin


@pytest.fixture
def faults(flyte_admin):
    yield flyte_admin.faults
    flyte_admin.faults.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def connection(endpoint: str, login: str | None = None, password: str | None = None, **extra) -> str:
    """Retries as the connection's default (5): what a wrong port used to spend 15.9 s on."""
    host, port = endpoint.rsplit(":", 1)
    return json.dumps({"conn_type": "flyte", "host": host, "port": int(port), "login": login, "password": password,
                       "extra": {"project": P, "domain": D, "retries": 5, "timeout": 10, **extra}})


def connect(monkeypatch, conn_id: str, endpoint: str, **fields) -> FlyteHook:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", connection(endpoint, **fields))
    return FlyteHook(conn_id)


def misconfigured(case: str, flyte_admin, tls_admin) -> tuple[str, dict, str]:
    """Endpoint, extras and the words the error must say, for each mistake a user makes."""
    port = free_port()
    return {
        "wrong_port": (f"127.0.0.1:{port}", {"insecure": True}, f"nothing listens on 127.0.0.1:{port}"),
        "unknown_host": ("flyte.example.con:443", {}, "unknown host flyte.example.con"),
        "tls_against_plaintext": (flyte_admin.endpoint, {}, "the server answered in plaintext: set `insecure` to true"),
        "plaintext_against_tls": (
            tls_admin.endpoint,
            {"insecure": True},
            "the server speaks TLS: set `insecure` to false (and `ca_cert_path` if its certificate is private)",
        ),
        "untrusted_certificate": (
            tls_admin.endpoint,
            {},
            "certificate not trusted (self-signed certificate): set `ca_cert_path`",
        ),
    }[case]


def fails_at_once(hook: FlyteHook, words: str) -> FlyteAdminUnreachable:
    started = time.monotonic()
    with pytest.raises(FlyteAdminUnreachable) as caught:
        hook.resolve_launch_plan(P, D, "simple.double_wf")
    elapsed = time.monotonic() - started

    message = str(caught.value)
    print(f"{hook.flyte_conn_id}: {elapsed:.2f}s: {message}")
    assert words in message
    assert repr(hook.flyte_conn_id) in message and hook.config.endpoint in message
    assert isinstance(caught.value.__cause__, grpc.RpcError)
    assert elapsed < FAILS_WITHIN
    return caught.value


def test_a_wrong_port_says_nothing_listens_there_at_once(flyte_admin, tls_admin, monkeypatch):
    endpoint, extra, words = misconfigured("wrong_port", flyte_admin, tls_admin)

    error = fails_at_once(connect(monkeypatch, "wrong_port", endpoint, **extra), words)

    assert error.__cause__.code() is grpc.StatusCode.UNAVAILABLE
    assert "check the connection's host and port" in str(error)


def test_an_unknown_host_is_named(flyte_admin, tls_admin, monkeypatch):
    endpoint, extra, words = misconfigured("unknown_host", flyte_admin, tls_admin)

    error = fails_at_once(connect(monkeypatch, "unknown_host", endpoint, **extra), words)

    assert not error.outage_possible


def test_tls_against_a_plaintext_admin_says_set_insecure_to_true(flyte_admin, tls_admin, monkeypatch):
    endpoint, extra, words = misconfigured("tls_against_plaintext", flyte_admin, tls_admin)

    error = fails_at_once(connect(monkeypatch, "tls_plaintext", endpoint, **extra), words)

    assert "WRONG_VERSION_NUMBER" in error.__cause__.details()  # gRPC's own words stay on the cause


def test_plaintext_against_a_tls_admin_says_set_insecure_to_false(flyte_admin, tls_admin, monkeypatch):
    endpoint, extra, words = misconfigured("plaintext_against_tls", flyte_admin, tls_admin)

    fails_at_once(connect(monkeypatch, "plaintext_tls", endpoint, **extra), words)


def test_an_untrusted_certificate_says_set_ca_cert_path_or_insecure_skip_verify(flyte_admin, tls_admin, monkeypatch):
    endpoint, extra, words = misconfigured("untrusted_certificate", flyte_admin, tls_admin)

    error = fails_at_once(connect(monkeypatch, "untrusted", endpoint, **extra), words)

    assert "`insecure_skip_verify` to true" in str(error)


def test_client_credentials_against_a_plaintext_admin_say_the_same(flyte_admin, monkeypatch):
    """The first call is the token discovery on the admin's AuthMetadataService: same diagnosis."""
    hook = connect(monkeypatch, "cc_plaintext", flyte_admin.endpoint, login="client", password="secret")
    assert hook.config.auth_mode == "client_credentials"

    fails_at_once(hook, "the server answered in plaintext: set `insecure` to true")


def test_insecure_skip_verify_against_a_plaintext_admin_says_set_insecure_to_true(flyte_admin, monkeypatch):
    """``insecure_skip_verify`` reads the server's certificate before any gRPC: diagnosed there."""
    hook = connect(monkeypatch, "skip_plaintext", flyte_admin.endpoint, insecure_skip_verify=True)

    with pytest.raises(FlyteAdminUnreachable, match="the server answered in plaintext: set `insecure` to true") as caught:
        hook.resolve_launch_plan(P, D, "simple.double_wf")
    assert isinstance(caught.value.__cause__, OSError)


@pytest.mark.parametrize(
    "case", ["wrong_port", "unknown_host", "tls_against_plaintext", "plaintext_against_tls", "untrusted_certificate"]
)
def test_test_connection_answers_within_5_s_with_the_same_words(flyte_admin, tls_admin, monkeypatch, case):
    endpoint, extra, words = misconfigured(case, flyte_admin, tls_admin)
    hook = connect(monkeypatch, f"test_{case}", endpoint, **extra)

    started = time.monotonic()
    ok, message = hook.test_connection()
    elapsed = time.monotonic() - started

    print(f"{case}: {elapsed:.2f}s: {message}")
    assert not ok
    assert words in message and f"test_{case}" in message and endpoint in message
    assert elapsed < TEST_CONNECTION_WITHIN


def test_airflow_connections_test_says_the_same(airflow_db, flyte_admin):
    airflow = str(Path(sys.executable).parent / "airflow")
    env = {**os.environ, "AIRFLOW__CORE__TEST_CONNECTION": "Enabled", "AIRFLOW_CONN_CLI_TLS": connection(flyte_admin.endpoint)}

    done = subprocess.run([airflow, "connections", "test", "cli_tls"], capture_output=True, text=True, env=env, timeout=120)

    assert "the server answered in plaintext: set `insecure` to true" in done.stdout + done.stderr, done.stdout + done.stderr


# -- an admin that answered before: outages are waited out, as always ----------------------------


def test_an_outage_of_an_admin_that_answered_before_is_waited_out(flyte_admin, flyte_conn, faults, monkeypatch):
    hook = connect(monkeypatch, "answered_sync", flyte_admin.endpoint, insecure=True)
    hook.resolve_launch_plan(P, D, "simple.double_wf")

    faults.outage(2.0)
    started = time.monotonic()
    target = hook.resolve_launch_plan(P, D, "simple.double_wf")

    assert target.identifier.name == "simple.double_wf"
    assert time.monotonic() - started >= 1.5  # retried through the outage, not diagnosed


@pytest.mark.asyncio
async def test_an_outage_of_an_admin_that_answered_the_async_client_is_waited_out(flyte_admin, flyte_conn, faults, monkeypatch):
    from flyteidl.admin import version_pb2

    from airflow_provider_flyte.watcher.pool import ClientPool

    monkeypatch.setenv("AIRFLOW_CONN_ANSWERED_ASYNC", connection(flyte_admin.endpoint, insecure=True))
    async with ClientPool.current().client("answered_async") as client:
        await client.call("GetVersion", version_pb2.GetVersionRequest())

        faults.outage(2.0)
        started = time.monotonic()
        version = await client.call("GetVersion", version_pb2.GetVersionRequest())

    assert version.control_plane_version.Version
    assert time.monotonic() - started >= 1.5


@pytest.mark.asyncio
async def test_the_async_client_says_the_same_words(flyte_admin, monkeypatch):
    from flyteidl.admin import version_pb2

    from airflow_provider_flyte.watcher.pool import ClientPool

    monkeypatch.setenv("AIRFLOW_CONN_ASYNC_TLS", connection(flyte_admin.endpoint))
    started = time.monotonic()
    async with ClientPool.current().client("async_tls") as client:
        with pytest.raises(FlyteAdminUnreachable, match="the server answered in plaintext: set `insecure` to true"):
            await client.call("GetVersion", version_pb2.GetVersionRequest())

    assert time.monotonic() - started < FAILS_WITHIN


@pytest.mark.asyncio
async def test_a_trigger_that_starts_during_an_outage_waits_it_out(flyte_admin, flyte_conn, faults):
    """A triggerer restarted while the admin is down has a client that never answered: nothing
    listening is an outage to wait out there, not a misconfiguration."""
    from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger, FlyteTriggerEvent
    from tests.provider.dags import launch_directly
    from tests.waiting import Phase

    name = launch_directly("starts-in-an-outage", "simple.double_wf", {"x": 1})
    flyte_admin.wait_for_phase(name, {Phase.SUCCEEDED}, timeout=30)

    faults.outage(3.0)
    started = time.monotonic()
    async for event in FlyteExecutionTrigger("flyte_conn", P, D, name, poll_interval=0.5).run():
        parsed = FlyteTriggerEvent.parse(event.payload)
        break

    assert parsed.status == "terminal" and parsed.state.phase == "SUCCEEDED"
    assert time.monotonic() - started >= 2.5


# -- no gRPC C-core lines in the task log -----------------------------------------------------------

_MISCONFIGURED_DAG = """
import sys
from datetime import datetime

sys.path.insert(0, {repo!r})
from airflow.sdk import DAG

from airflow_provider_flyte.operators.flyte import FlyteOperator
from tests.airflow_runs import run_dag

with DAG("misconfigured_tls_{tag}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    FlyteOperator(task_id="launch", flyte_conn_id="misconfigured", project="{project}", domain="{domain}",
                  launchplan_name="simple.double_wf", inputs={{"x": 1}})
print("RUN STATE", run_dag(dag).state)
"""


def run_misconfigured_dag(tmp_path, flyte_admin, tag: str, **grpc_env: str) -> str:
    """A DAG run whose connection asks TLS of the plaintext admin, in a process of its own (as a
    task process is: grpc not imported before the provider), without the test process's grpc
    settings. Everything it printed: dag.test()'s task log and the process's stderr."""
    script = tmp_path / f"misconfigured_{tag}.py"
    script.write_text(_MISCONFIGURED_DAG.format(repo=str(REPO), tag=tag, project=P, domain=D))
    env = {k: v for k, v in os.environ.items() if k not in ("GRPC_VERBOSITY", "GRPC_TRACE")}
    env.update(AIRFLOW_CONN_MISCONFIGURED=connection(flyte_admin.endpoint, retries=5), **grpc_env)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300, cwd=REPO)
    return done.stdout + done.stderr


def test_a_misconfigured_dag_run_logs_no_grpc_core_lines(airflow_db, flyte_admin, tmp_path):
    output = run_misconfigured_dag(tmp_path, flyte_admin, "quiet")

    assert "RUN STATE failed" in output, output[-3000:]
    assert "the server answered in plaintext: set `insecure` to true" in output
    assert "retrying in" not in output  # diagnosed, not retried for 15 s
    assert not C_CORE_LINE.findall(output), [m for m in output.splitlines() if C_CORE_LINE.match(m)]


def test_a_users_own_grpc_verbosity_is_kept(airflow_db, flyte_admin, tmp_path):
    """The same run with GRPC_VERBOSITY=INFO chosen by the user: gRPC's lines are theirs to see
    (and this shows the quiet run above would have caught them)."""
    output = run_misconfigured_dag(tmp_path, flyte_admin, "verbose", GRPC_VERBOSITY="INFO")

    assert "RUN STATE failed" in output, output[-3000:]
    assert C_CORE_LINE.search(output), output[-3000:]


@pytest.mark.parametrize(
    "env,expected",
    [({}, "NONE"), ({"GRPC_VERBOSITY": "DEBUG"}, "DEBUG"), ({"GRPC_TRACE": "api"}, None)],
    ids=["unset", "user-verbosity", "user-trace"],
)
def test_grpc_verbosity_is_silenced_only_when_the_user_chose_nothing(env, expected):
    clean = {k: v for k, v in os.environ.items() if k not in ("GRPC_VERBOSITY", "GRPC_TRACE")}
    code = "import os, airflow_provider_flyte.hooks, grpc; print(os.environ.get('GRPC_VERBOSITY'))"

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**clean, **env}, timeout=60)

    assert done.stdout.strip() == str(expected), done.stderr
