"""`flyte-local-admin` announces where it listens, serves, and stops on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys

import grpc
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
