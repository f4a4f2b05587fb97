"""`flyte-local-admin` announces where it listens, serves, and stops on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys

import grpc
import pytest
from flyteidl.admin import version_pb2
from flyteidl.service.admin_pb2_grpc import AdminServiceStub

from tests.local_admin.conftest import SIMPLE


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
