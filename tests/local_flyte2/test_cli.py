"""`flyte2-local-service` announces where it listens, serves, and stops on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys

from flyteidl2.task import task_service_pb2
from flyteidl2.task.task_service_connect import TaskServiceClientSync

from tests.local_flyte2.conftest import TASKS


def test_cli_prints_the_listening_line_first_serves_and_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_flyte.local_flyte2.cli", "--port", "0", "--tasks", str(TASKS / "arithmetic.py")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        prefix = "Flyte 2 run service listening on 127.0.0.1:"
        assert line.startswith(prefix) and int(line[len(prefix) :]) > 0
        deployed = [process.stdout.readline().strip() for _ in range(2)]
        assert deployed[0].startswith("Deployed task arithmetic.add version ")
        version = deployed[0].split(" version ")[1].split(" ")[0]
        with TaskServiceClientSync(f"http://{line.rsplit(' ', 1)[-1]}", timeout_ms=10_000) as client:
            request = task_service_pb2.GetTaskDetailsRequest()
            request.task_id.project, request.task_id.domain = "flytesnacks", "development"
            request.task_id.name, request.task_id.version = "arithmetic.add", version
            assert client.get_task_details(request).details.spec.short_name == "add"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        process.stdout.close()  # type: ignore[union-attr]


def test_cli_project_and_domain_options_choose_where_tasks_are_deployed():
    process = subprocess.Popen(
        [
            sys.executable, "-m", "airflow_provider_flyte.local_flyte2.cli", "--port", "0",
            "--tasks", str(TASKS / "failing.py"), "--project", "demo", "--domain", "staging",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
        assert process.stdout.readline().strip().endswith(" to demo/staging")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        process.stdout.close()  # type: ignore[union-attr]


def test_cli_with_client_secret_auth_prints_the_token_endpoint_second():
    process = subprocess.Popen(
        [
            sys.executable, "-m", "airflow_provider_flyte.local_flyte2.cli", "--port", "0", "--tasks", str(TASKS / "failing.py"),
            "--auth", "client-secret", "--client-id", "cli", "--client-secret", "pw",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        endpoint = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        assert process.stdout.readline().strip() == f"Token endpoint: http://{endpoint}/oauth2/token"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        process.stdout.close()  # type: ignore[union-attr]
