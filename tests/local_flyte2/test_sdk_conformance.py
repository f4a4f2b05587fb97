"""The Flyte 2 SDK's own remote API works against the service unchanged: init, Task.get, flyte.run,
Run.get, wait, outputs, abort, and the errors it raises for what the service refuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_flyte.local_flyte2 import LocalFlyte2Service
from tests.local_flyte2.conftest import TASKS

SESSION = Path(__file__).parent / "sdk_session.py"


@pytest.fixture(scope="module", params=["host:port", "dns:///host:port"])
def session(request) -> dict:
    with LocalFlyte2Service(tasks=[TASKS], port=0) as service:
        endpoint = service.endpoint if request.param == "host:port" else f"dns:///{service.endpoint}"
        version = service.task("arithmetic.add").task_id.version
        done = subprocess.run(
            [sys.executable, str(SESSION), endpoint, version], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        results = json.loads(done.stdout.strip().splitlines()[-1])
        results["service_runs"] = {run.name: run for run in service.runs()}
        results["add_version"] = version
        return results


def test_task_get_latest_finds_the_deployed_version_and_a_run_succeeds_with_its_outputs(session):
    assert session["add"] == {"phase": "ActionPhase.SUCCEEDED", "outputs": [3], "version": session["add_version"]}


def test_task_get_with_an_explicit_version_runs_that_version(session):
    assert session["pinned"] == {"outputs": [11]}


def test_an_async_task_runs_through_the_sdk(session):
    assert session["async"] == {"outputs": ["ho ho ho"]}


def test_a_failed_run_raises_the_tasks_exception_message(session):
    assert session["failed"]["phase"] == "ActionPhase.FAILED"
    assert session["failed"]["raised"] == {"type": "RuntimeUserError", "message": "ZeroDivisionError: cannot divide 1 by zero"}


def test_the_sdk_finds_a_failed_run_by_phase_and_its_first_failure(session):
    assert session["failed"]["listed_as_failed"] is True
    assert session["failed"]["first_failure"] == "ZeroDivisionError: cannot divide 1 by zero"


def test_the_sdk_reads_a_runs_log(session):
    lines = [line.strip() for line in session["failed"]["logs"]]
    assert "dividing 1 by 0" in lines
    assert lines[-1] == "ZeroDivisionError: cannot divide 1 by zero"


def test_abort_ends_a_running_run_aborted_with_its_reason(session):
    aborted = session["aborted"]
    assert aborted["phase"] == "ActionPhase.ABORTED"
    assert aborted["seconds"] < 10
    assert aborted["raised"]["type"] == "ActionAbortedError"
    assert aborted["raised"]["message"].endswith("was aborted: stopped by the SDK test")


def test_an_unknown_task_is_the_sdks_task_not_found_error(session):
    assert session["unknown_task"]["type"] == "RemoteTaskNotFoundError"


def test_a_duplicate_run_name_is_the_sdks_run_already_exists_error(session):
    assert session["duplicate"]["type"] == "RuntimeUserError"
    assert "A run with the name 'sdk-add' already exists" in session["duplicate"]["message"]


def test_a_run_name_over_30_characters_is_refused_with_the_services_message(session):
    assert session["too_long"] == {
        "type": "RuntimeUserError",
        "message": f'invalid run name "{"n" * 31}": must be no more than 30 characters',
    }


def test_run_listall_lists_the_sessions_runs(session):
    assert "sdk-add" in session["listed"]
    assert set(session["listed"]) == set(session["service_runs"])
