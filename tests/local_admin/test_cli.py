"""`flyte-local-admin` announces where it listens, serves, stops on SIGTERM, and takes its options."""

from __future__ import annotations

import base64
import signal
import subprocess
import sys
import time
import urllib.request

import grpc
import pytest
from flyteidl.admin import execution_pb2, version_pb2
from flyteidl.core.execution_pb2 import WorkflowExecution
from flyteidl.service.admin_pb2_grpc import AdminServiceStub

from tests.local_admin.conftest import SIMPLE, create_request, execution_id, literal


def test_cli_prints_the_listening_line_serves_and_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_flyte.local_admin.cli", "--port", "0", "--workflows", str(SIMPLE)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        prefix = "FlyteAdmin listening on 127.0.0.1:"
        assert line.startswith(prefix) and int(line[len(prefix) :]) > 0
        with grpc.insecure_channel(line.rsplit(" ", 1)[-1]) as channel:
            version = AdminServiceStub(channel).GetVersion(version_pb2.GetVersionRequest(), timeout=10)
        assert version.control_plane_version.Version
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        process.stdout.close()


def test_cli_with_tls_and_auth_prints_the_ca_file_and_token_endpoint():
    process = subprocess.Popen(
        [
            sys.executable, "-m", "airflow_provider_flyte.local_admin.cli", "--port", "0", "--tls",
            "--auth", "client-secret", "--client-id", "cli", "--client-secret", "pw", "--token-lifetime", "60",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        endpoint = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        ca_line, token_line = process.stdout.readline().strip(), process.stdout.readline().strip()
        assert ca_line.startswith("CA certificate: /") and token_line.startswith("Token endpoint: https://127.0.0.1:")
        with open(ca_line.split(": ", 1)[1], "rb") as pem:
            credentials = grpc.ssl_channel_credentials(root_certificates=pem.read())
        with grpc.secure_channel(endpoint, credentials) as channel:
            with pytest.raises(grpc.RpcError) as raised:
                AdminServiceStub(channel).GetVersion(version_pb2.GetVersionRequest(), timeout=10)
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stdout.close()


def _start_cli(*args: str) -> tuple[subprocess.Popen, list[str]]:
    """Starts the CLI on a free port; returns it and its announcement lines (endpoint first)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_flyte.local_admin.cli", "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    lines = [process.stdout.readline().strip().rsplit(" ", 1)[-1]]
    if "--auth" in args:
        lines.append(process.stdout.readline().strip().rsplit(" ", 1)[-1])  # the token endpoint
    return process, lines


def _stop_cli(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=20)
    process.stdout.close()


def test_cli_parallelism_zero_holds_executions_queued_until_terminated():
    process, (endpoint,) = _start_cli("--parallelism", "0", "--workflows", str(SIMPLE))
    try:
        with grpc.insecure_channel(endpoint) as channel:
            stub = AdminServiceStub(channel)
            request = create_request("simple.sleepy_wf", {"seconds": literal(0.1)})
            stub.CreateExecution(request, timeout=10)
            get = execution_pb2.WorkflowExecutionGetRequest(id=execution_id(request.name))
            time.sleep(1.0)
            assert stub.GetExecution(get, timeout=10).closure.phase == WorkflowExecution.QUEUED
            stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=get.id, cause="done"), timeout=10)
            deadline = time.monotonic() + 1.0
            while stub.GetExecution(get, timeout=10).closure.phase != WorkflowExecution.ABORTED:
                assert time.monotonic() < deadline, "not ABORTED within a second"
                time.sleep(0.05)
    finally:
        _stop_cli(process)


def test_cli_token_latency_makes_the_identity_provider_that_slow():
    process, (_, token_endpoint) = _start_cli(
        "--auth", "client-secret", "--client-id", "cli", "--client-secret", "pw", "--token-latency", "0.5"
    )
    try:
        request = urllib.request.Request(
            token_endpoint,
            data=b"grant_type=client_credentials&scope=all",
            headers={"Authorization": "Basic " + base64.b64encode(b"cli:pw").decode()},
        )
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        assert time.monotonic() - started >= 0.5
    finally:
        _stop_cli(process)


@pytest.mark.parametrize("flag", ["--parallelism", "--token-latency"])
def test_cli_refuses_negative_parallelism_and_token_latency(flag):
    auth = ["--auth", "client-secret", "--client-id", "cli", "--client-secret", "pw"]
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_flyte.local_admin.cli", *auth, flag, "-1"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2 and "must be 0 or more" in result.stderr


def test_cli_help_documents_holding_executions_and_the_slow_identity_provider():
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_flyte.local_admin.cli", "--help"],
        capture_output=True, text=True, timeout=60,
    )
    help_text = " ".join(result.stdout.split())
    assert "0 holds every execution QUEUED" in help_text
    assert "--token-latency SECONDS" in help_text and "one request at a time" in help_text
