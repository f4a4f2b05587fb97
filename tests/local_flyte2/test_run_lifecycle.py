"""A run's root action really runs its task: phases, outputs, failures, timeouts and aborts."""

from __future__ import annotations

import os
import time

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from flyteidl2.common import identifier_pb2, list_pb2, phase_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2

from tests.local_flyte2.conftest import create_request, floating, inputs, integer, run_id, string


def _action(name: str) -> identifier_pb2.ActionIdentifier:
    return identifier_pb2.ActionIdentifier(run=run_id(name), name="a0")


def _watched_phases(runs, name: str) -> list[int]:
    stream = runs.watch_run_details(run_service_pb2.WatchRunDetailsRequest(run_id=run_id(name)))
    return [response.details.action.status.phase for response in stream]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_run_goes_queued_running_succeeded_and_the_watch_ends_there(service, runs):
    created = runs.create_run(create_request(service, "phases", "arithmetic.add", inputs(x=integer(2), y=integer(3))))
    assert created.run.action.status.phase == phase_pb2.ACTION_PHASE_QUEUED
    phases = _watched_phases(runs, "phases")
    assert phases[-1] == phase_pb2.ACTION_PHASE_SUCCEEDED
    assert phase_pb2.ACTION_PHASE_RUNNING in phases
    assert phases == sorted(phases, key=[phase_pb2.ACTION_PHASE_QUEUED, phase_pb2.ACTION_PHASE_RUNNING, phase_pb2.ACTION_PHASE_SUCCEEDED].index)


def test_the_outputs_are_the_functions_return_value_and_the_inputs_include_defaults(service, runs, dataproxy):
    runs.create_run(create_request(service, "outputs", "arithmetic.add", inputs(x=integer(40))))
    service.wait_for_phase("outputs")
    data = dataproxy.get_action_data(dataproxy_service_pb2.GetActionDataRequest(action_id=_action("outputs")))
    assert {n.name: n.value.scalar.primitive.integer for n in data.inputs.literals} == {"x": 40, "y": 1}
    assert [(n.name, n.value.scalar.primitive.integer) for n in data.outputs.literals] == [("o0", 41)]


def test_an_async_task_function_is_awaited(service, runs, dataproxy):
    runs.create_run(create_request(service, "async", "arithmetic.describe", inputs(name=string("hi"), times=integer(2))))
    assert service.wait_for_phase("async").phase == "SUCCEEDED"
    data = dataproxy.get_action_data(dataproxy_service_pb2.GetActionDataRequest(action_id=_action("async")))
    assert data.outputs.literals[0].value.scalar.primitive.string_value == "hi hi"


def test_a_raising_task_fails_with_a_user_error_carrying_the_exceptions_last_line(service, runs):
    runs.create_run(create_request(service, "raises", "failing.divide", inputs(x=integer(1), y=integer(0))))
    assert _watched_phases(runs, "raises")[-1] == phase_pb2.ACTION_PHASE_FAILED
    details = runs.get_action_details(run_service_pb2.GetActionDetailsRequest(action_id=_action("raises"))).details
    assert details.error_info.kind == run_definition_pb2.ErrorInfo.KIND_USER
    assert details.error_info.message == "ZeroDivisionError: cannot divide 1 by zero"
    assert details.error_info.code == "ZeroDivisionError"


def test_a_task_past_its_declared_timeout_is_killed_and_timed_out(service, runs):
    runs.create_run(create_request(service, "overruns", "slow.overrun", inputs(seconds=floating(30))))
    started = time.monotonic()
    assert _watched_phases(runs, "overruns")[-1] == phase_pb2.ACTION_PHASE_TIMED_OUT
    assert time.monotonic() - started < 10
    details = runs.get_action_details(run_service_pb2.GetActionDetailsRequest(action_id=_action("overruns"))).details
    assert details.error_info.code == "TaskTimeoutError"


def test_abort_kills_the_task_and_the_processes_it_started_and_keeps_reason_and_principal(service, runs, tmp_path):
    pid_file = tmp_path / "child.pid"
    request = create_request(service, "aborted", "slow.sleep_in_child", inputs(pid_file=string(str(pid_file)), seconds=floating(60)))
    runs.create_run(request)
    service.wait_for_phase("aborted", {"RUNNING"})
    deadline = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the task never started its child"
        time.sleep(0.05)
    child, runner = int(pid_file.read_text()), service.run("aborted").pid
    runs.abort_run(run_service_pb2.AbortRunRequest(run_id=run_id("aborted"), reason="not needed any more"))
    assert _watched_phases(runs, "aborted")[-1] == phase_pb2.ACTION_PHASE_ABORTED
    details = runs.get_action_details(run_service_pb2.GetActionDetailsRequest(action_id=_action("aborted"))).details
    assert details.abort_info.reason == "not needed any more"
    assert details.abort_info.aborted_by.user.spec.user_handle == "anonymous"
    deadline = time.monotonic() + 5
    while not (_gone(child) and _gone(runner)):
        assert time.monotonic() < deadline, "the task's processes outlived the abort"
        time.sleep(0.05)


def test_aborting_a_finished_run_marks_it_aborted_as_open_source_flyte_does(service, runs):
    runs.create_run(create_request(service, "finished", "arithmetic.add", inputs(x=integer(1))))
    service.wait_for_phase("finished")
    runs.abort_run(run_service_pb2.AbortRunRequest(run_id=run_id("finished"), reason="too late"))
    details = runs.get_run_details(run_service_pb2.GetRunDetailsRequest(run_id=run_id("finished"))).details
    assert details.action.status.phase == phase_pb2.ACTION_PHASE_ABORTED
    assert details.action.abort_info.reason == "too late"


def test_an_unknown_run_is_not_found(service, runs):
    with pytest.raises(ConnectError) as raised:
        runs.get_run_details(run_service_pb2.GetRunDetailsRequest(run_id=run_id("never-created")))
    assert raised.value.code == Code.NOT_FOUND
    with pytest.raises(ConnectError) as raised:
        runs.abort_run(run_service_pb2.AbortRunRequest(run_id=run_id("never-created")))
    assert raised.value.code == Code.NOT_FOUND


def test_list_runs_and_actions_show_the_run_and_its_root_action(service, runs):
    runs.create_run(create_request(service, "listed", "arithmetic.add", inputs(x=integer(1))))
    service.wait_for_phase("listed")
    listed = runs.list_runs(
        run_service_pb2.ListRunsRequest(project_id=identifier_pb2.ProjectIdentifier(name="flytesnacks", domain="development"))
    )
    assert "listed" in [r.action.id.run.name for r in listed.runs]
    actions = runs.list_actions(run_service_pb2.ListActionsRequest(run_id=run_id("listed"))).actions
    assert [(a.id.name, a.status.phase, a.metadata.task.id.name) for a in actions] == [
        ("a0", phase_pb2.ACTION_PHASE_SUCCEEDED, "arithmetic.add")
    ]


def test_run_service_get_action_data_points_to_the_data_proxy_as_the_real_service(service, runs):
    with pytest.raises(ConnectError) as raised:
        runs.get_action_data(run_service_pb2.GetActionDataRequest(action_id=_action("phases")))
    assert raised.value.code == Code.UNIMPLEMENTED
    assert raised.value.message == "RunService.GetActionData is deprecated; use DataProxyService.GetActionData instead"


def test_an_abort_right_after_create_ends_the_run_aborted_even_while_its_process_starts(service, runs):
    for index in range(3):
        name = f"early-abort-{index}"
        runs.create_run(create_request(service, name, "slow.sleep", inputs(seconds=floating(60))))
        runs.abort_run(run_service_pb2.AbortRunRequest(run_id=run_id(name), reason="changed my mind"))
        assert _watched_phases(runs, name)[-1] == phase_pb2.ACTION_PHASE_ABORTED


def _project_runs(runs, *filters: list_pb2.Filter, **sort) -> list[str]:
    request = run_service_pb2.ListRunsRequest(
        project_id=identifier_pb2.ProjectIdentifier(name="flytesnacks", domain="development"),
        request=list_pb2.ListRequest(filters=list(filters), sort_by=list_pb2.Sort(**sort) if sort else None),
    )
    return [r.action.id.run.name for r in runs.list_runs(request).runs]


def test_list_runs_filters_by_phase_and_task_and_sorts_by_creation(service, runs):
    for name, y in (("sorted-ok", 1), ("sorted-failed", 0)):
        runs.create_run(create_request(service, name, "failing.divide", inputs(x=integer(1), y=integer(y))))
        service.wait_for_phase(name)
    failed = list_pb2.Filter(function=list_pb2.Filter.VALUE_IN, field="phase", values=[str(phase_pb2.ACTION_PHASE_FAILED)])
    divide = list_pb2.Filter(function=list_pb2.Filter.EQUAL, field="task_name", values=["failing.divide"])
    assert "sorted-failed" in _project_runs(runs, failed) and "sorted-ok" not in _project_runs(runs, failed)
    newest_first = _project_runs(runs, divide)
    assert newest_first[:2] == ["sorted-failed", "sorted-ok"]
    assert _project_runs(runs, divide, key="created_at", direction=list_pb2.Sort.ASCENDING) == newest_first[::-1]


def test_a_list_filter_on_a_field_the_list_does_not_have_is_an_invalid_argument(service, runs):
    unknown = list_pb2.Filter(function=list_pb2.Filter.EQUAL, field="colour", values=["blue"])
    with pytest.raises(ConnectError) as raised:
        _project_runs(runs, unknown)
    assert raised.value.code == Code.INVALID_ARGUMENT
    assert raised.value.message.startswith("unsupported filter field 'colour'")


def test_tail_logs_streams_the_tasks_output_and_ends_with_the_run(service, runs, dataproxy):
    runs.create_run(create_request(service, "logged", "failing.divide", inputs(x=integer(7), y=integer(0))))
    service.wait_for_phase("logged", {"RUNNING", "FAILED"})
    stream = dataproxy.tail_logs(dataproxy_service_pb2.TailLogsRequest(action_id=_action("logged"), attempt=1))
    lines = [line.message for response in stream for logs in response.logs for line in logs.lines]
    assert "dividing 7 by 0" in lines
    assert lines[-1] == "ZeroDivisionError: cannot divide 7 by zero"
    assert service.run("logged").phase == "FAILED"


def test_tail_logs_of_another_attempt_is_not_found(service, runs, dataproxy):
    with pytest.raises(ConnectError) as raised:
        list(dataproxy.tail_logs(dataproxy_service_pb2.TailLogsRequest(action_id=_action("logged"), attempt=2)))
    assert raised.value.code == Code.NOT_FOUND
