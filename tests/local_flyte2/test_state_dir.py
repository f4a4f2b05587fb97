"""A state folder given to the service keeps each run's files, and a later start reusing it runs afresh."""

from __future__ import annotations

from flyteidl2.common import phase_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClientSync

from airflow_provider_flyte.local_flyte2 import LocalFlyte2Service
from tests.local_flyte2.conftest import DOMAIN, PROJECT, TASKS, create_request, inputs, integer, run_id


def _run(state_dir, task: str, **values: int) -> run_definition_pb2.ActionDetails:
    with LocalFlyte2Service(tasks=[TASKS / "failing.py"], state_dir=state_dir) as service:
        with RunServiceClientSync(service.url, timeout_ms=10_000) as runs:
            runs.create_run(create_request(service, "reused-name", task, inputs(**{k: integer(v) for k, v in values.items()})))
            service.wait_for_phase("reused-name")
            return runs.get_run_details(run_service_pb2.GetRunDetailsRequest(run_id=run_id("reused-name"))).details.action


def test_a_run_keeps_its_files_in_the_state_folder(tmp_path):
    assert _run(tmp_path, "failing.divide", x=1, y=0).status.phase == phase_pb2.ACTION_PHASE_FAILED
    folder = tmp_path / "runs" / PROJECT / DOMAIN / "reused-name" / "a0"
    assert "ZeroDivisionError: cannot divide 1 by zero" in (folder / "log.txt").read_text()


def test_a_process_that_dies_without_a_word_fails_with_a_system_error(tmp_path):
    action = _run(tmp_path, "failing.exit_hard", code=3)
    assert action.status.phase == phase_pb2.ACTION_PHASE_FAILED
    assert action.error_info.kind == run_definition_pb2.ErrorInfo.KIND_SYSTEM
    assert action.error_info.message == "the task's process exited with code 3 without reporting an error"


def test_a_later_start_on_the_same_folder_does_not_take_an_old_runs_error_for_a_new_ones(tmp_path):
    assert _run(tmp_path, "failing.divide", x=1, y=0).error_info.code == "ZeroDivisionError"
    assert _run(tmp_path, "failing.exit_hard", code=3).error_info.kind == run_definition_pb2.ErrorInfo.KIND_SYSTEM
