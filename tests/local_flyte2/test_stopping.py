"""Stopping the service ends the runs still executing: no task process outlives it."""

from __future__ import annotations

import os
import time

from flyteidl2.workflow.run_service_connect import RunServiceClientSync

from airflow_provider_flyte.local_flyte2 import LocalFlyte2Service
from tests.local_flyte2.conftest import TASKS, create_request, floating, inputs


def test_stopping_kills_the_processes_of_running_runs_and_returns_promptly():
    service = LocalFlyte2Service(tasks=[TASKS / "slow.py"], port=0).start()
    try:
        with RunServiceClientSync(service.url, timeout_ms=10_000) as runs:
            runs.create_run(create_request(service, "outlived", "slow.sleep", inputs(seconds=floating(60))))
        pid = service.wait_for_phase("outlived", {"RUNNING"}).pid
        assert pid is not None
    finally:
        started = time.monotonic()
        service.stop()
    assert time.monotonic() - started < 10
    deadline = time.monotonic() + 5
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "a run's process outlived the service"
        time.sleep(0.05)
