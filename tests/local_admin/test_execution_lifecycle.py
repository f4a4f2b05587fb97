"""Executions really run the workflow, and report phases, timings, outputs and errors like flyteadmin."""

from __future__ import annotations

import grpc
import pytest
from flyteidl.admin import common_pb2, execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import literals_pb2

from tests.local_admin.conftest import create_request, execution_id, literal

PHASES = core_execution_pb2.WorkflowExecution
TERMINAL = {PHASES.SUCCEEDED, PHASES.FAILED, PHASES.TIMED_OUT, PHASES.ABORTED}


def _run(stub, admin, request: execution_pb2.ExecutionCreateRequest) -> execution_pb2.Execution:
    stub.CreateExecution(request)
    admin.wait_for_phase(request.name, TERMINAL, timeout=30)
    return stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution_id(request.name)))


def _data(stub, name: str) -> execution_pb2.WorkflowExecutionGetDataResponse:
    return stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id(name)))


def test_success_returns_outputs_through_get_execution_data(stub, admin):
    execution = _run(stub, admin, create_request("simple.double_wf", {"x": literal(21)}))
    assert execution.closure.phase == PHASES.SUCCEEDED
    assert _data(stub, execution.id.name).full_outputs.literals["o0"].scalar.primitive.integer == 42


def test_phases_go_undefined_queued_running_succeeded(stub, admin):
    execution = _run(stub, admin, create_request("simple.double_wf", {"x": literal(1)}))
    assert admin.phase_history(execution.id.name) == [
        PHASES.UNDEFINED,
        PHASES.QUEUED,
        PHASES.RUNNING,
        PHASES.SUCCEEDED,
    ]


def test_timestamps_are_set_when_running_and_when_terminal(stub, admin):
    closure = _run(stub, admin, create_request("simple.double_wf", {"x": literal(1)})).closure
    assert closure.created_at.ToNanoseconds() <= closure.started_at.ToNanoseconds()
    assert closure.started_at.ToNanoseconds() <= closure.updated_at.ToNanoseconds()
    assert closure.duration.ToNanoseconds() == closure.updated_at.ToNanoseconds() - closure.started_at.ToNanoseconds()


def test_defaults_are_applied_and_computed_inputs_returned(stub, admin):
    execution = _run(stub, admin, create_request("simple.double_wf"))
    assert execution.closure.computed_inputs.literals["x"].scalar.primitive.integer == 1
    assert execution.closure.workflow_id.name == "simple.double_wf"
    assert _data(stub, execution.id.name).full_inputs.literals["x"].scalar.primitive.integer == 1


def test_fixed_inputs_are_merged_in(stub, admin):
    execution = _run(stub, admin, create_request("simple.double_fixed"))
    assert _data(stub, execution.id.name).full_outputs.literals["o0"].scalar.primitive.integer == 10


def test_collections_maps_and_dataclass_outputs_round_trip(stub, admin):
    values = literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=[literal(1), literal(2)]))
    tags = literals_pb2.Literal(map=literals_pb2.LiteralMap(literals={"b": literal("x"), "a": literal("y")}))
    execution = _run(stub, admin, create_request("simple.summarize_wf", {"values": values, "tags": tags}))
    assert execution.closure.phase == PHASES.SUCCEEDED
    assert _data(stub, execution.id.name).full_outputs.literals["o0"].scalar.HasField("binary")


def test_empty_name_gets_a_generated_one(stub, admin):
    response = stub.CreateExecution(create_request("simple.double_wf", name=""))
    assert len(response.id.name) == 20 and response.id.name[0] == "a" and response.id.name.isalnum()


def test_spec_is_stored_verbatim(stub, admin):
    request = create_request(
        "simple.double_wf",
        labels=common_pb2.Labels(values={"team": "ml"}),
        annotations=common_pb2.Annotations(values={"note": "x"}),
        envs=common_pb2.Envs(values=[literals_pb2.KeyValuePair(key="K", value="V")]),
        max_parallelism=3,
        raw_output_data_config=common_pb2.RawOutputDataConfig(output_location_prefix="s3://bucket/raw"),
        overwrite_cache=True,
    )
    stub.CreateExecution(request)
    stored = stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution_id(request.name))).spec
    expected = execution_pb2.ExecutionSpec()
    expected.CopyFrom(request.spec)
    expected.metadata.SetInParent()  # flyteadmin always fills metadata (with the caller as principal)
    assert stored == expected


def test_user_error_fails_with_kind_user_and_the_python_message(stub, admin):
    execution = _run(stub, admin, create_request("simple.failing_wf", {"message": literal("kaboom")}))
    error = execution.closure.error
    assert execution.closure.phase == PHASES.FAILED
    assert error.kind == core_execution_pb2.ExecutionError.USER
    assert error.code == "USER:RuntimeError"
    assert "ValueError" in error.message and "kaboom" in error.message


def test_task_exceeding_its_timeout_times_out(stub, admin):
    execution = _run(stub, admin, create_request("simple.timeout_wf", {"seconds": literal(30.0)}))
    assert execution.closure.phase == PHASES.TIMED_OUT
    assert execution.closure.error.code == "Timeout"
    assert "task execution timeout [1s] expired" in execution.closure.error.message
    assert execution.closure.duration.ToSeconds() < 10


def test_terminate_aborts_with_metadata_and_kills_the_worker(stub, admin):
    request = create_request("simple.sleepy_wf", {"seconds": literal(60.0)})
    stub.CreateExecution(request)
    admin.wait_for_phase(request.name, {PHASES.RUNNING})
    stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=execution_id(request.name), cause="enough"))
    execution = admin.wait_for_phase(request.name, {PHASES.ABORTED}, timeout=10)
    assert admin.phase_history(request.name)[-2:] == [PHASES.ABORTING, PHASES.ABORTED]
    assert execution.closure.abort_metadata.cause == "enough"


def test_terminating_an_aborted_execution_is_a_failed_precondition(stub, admin):
    request = create_request("simple.sleepy_wf", {"seconds": literal(60.0)})
    stub.CreateExecution(request)
    terminate = execution_pb2.ExecutionTerminateRequest(id=execution_id(request.name), cause="stop")
    stub.TerminateExecution(terminate)
    admin.wait_for_phase(request.name, {PHASES.ABORTED}, timeout=10)
    with pytest.raises(grpc.RpcError) as raised:
        stub.TerminateExecution(terminate)
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_terminating_a_finished_execution_is_a_failed_precondition(stub, admin):
    execution = _run(stub, admin, create_request("simple.double_wf"))
    with pytest.raises(grpc.RpcError) as raised:
        stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=execution.id, cause="late"))
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert raised.value.details() == "Cannot abort an already terminated workflow execution"


def test_unknown_execution_is_not_found(stub):
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution_id("nothing-here")))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
