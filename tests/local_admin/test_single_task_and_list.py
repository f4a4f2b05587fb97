"""CreateExecution of a single task, and ListExecutions with paging and flyteadmin's filters."""

from __future__ import annotations

import grpc
import pytest
from flyteidl.admin import common_pb2, execution_pb2, node_execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2

from tests.local_admin.conftest import (
    DOMAIN,
    PROJECT,
    VERSION,
    create_request,
    execution_id,
    literal,
    unique_name,
)

PHASES = core_execution_pb2.WorkflowExecution
TERMINAL = {PHASES.SUCCEEDED, PHASES.FAILED, PHASES.TIMED_OUT, PHASES.ABORTED}


def _task_request(task: str, inputs: dict, name: str | None = None) -> execution_pb2.ExecutionCreateRequest:
    reference = identifier_pb2.Identifier(
        resource_type=identifier_pb2.TASK, project=PROJECT, domain=DOMAIN, name=task, version=VERSION
    )
    return execution_pb2.ExecutionCreateRequest(
        project=PROJECT, domain=DOMAIN, name=name or unique_name(),
        spec=execution_pb2.ExecutionSpec(launch_plan=reference), inputs={"literals": inputs},
    )


def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value.code()


def test_a_single_task_runs_and_returns_its_outputs(stub, admin):
    request = _task_request("simple.double", {"x": literal(8)})
    stub.CreateExecution(request)
    execution = admin.wait_for_phase(request.name, TERMINAL, timeout=30)
    assert execution.closure.phase == PHASES.SUCCEEDED
    data = stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id(request.name)))
    assert data.full_outputs.literals["o0"].scalar.primitive.integer == 16


def test_a_single_task_runs_through_an_implicit_flytegen_launch_plan(stub, admin):
    request = _task_request("simple.double", {"x": literal(1)})
    stub.CreateExecution(request)
    execution = admin.wait_for_phase(request.name, TERMINAL, timeout=30)
    assert execution.closure.workflow_id.name == ".flytegen.simple.double"
    launch_plan = stub.GetLaunchPlan(
        common_pb2.ObjectGetRequest(
            id=identifier_pb2.Identifier(
                resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain=DOMAIN,
                name=".flytegen.simple.double", version=VERSION,
            )
        )
    )
    assert launch_plan.closure.expected_inputs.parameters["x"].required


def test_a_single_task_runs_as_one_node_named_after_the_task(stub, admin):
    request = _task_request("simple.double", {"x": literal(1)})
    stub.CreateExecution(request)
    admin.wait_for_phase(request.name, TERMINAL, timeout=30)
    listed = stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution_id(request.name), limit=10)
    )
    assert [node.id.node_id for node in listed.node_executions] == ["simple-double"]


def test_every_task_input_is_required(stub):
    assert _code(lambda: stub.CreateExecution(_task_request("simple.double", {}))) == grpc.StatusCode.INVALID_ARGUMENT


def test_an_unknown_task_is_not_found(stub):
    request = _task_request("simple.nothing", {})
    assert _code(lambda: stub.CreateExecution(request)) == grpc.StatusCode.NOT_FOUND


def _list(stub, filters: str = "", limit: int = 1000, token: str = "", sort_by=None) -> execution_pb2.ExecutionList:
    return stub.ListExecutions(
        common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN),
            limit=limit, token=token, filters=filters, sort_by=sort_by,
        )
    )


@pytest.fixture(scope="module")
def two_finished(stub, admin) -> list[str]:
    names = []
    for x in (1, 2):
        request = create_request("simple.double_wf", {"x": literal(x)})
        stub.CreateExecution(request)
        admin.wait_for_phase(request.name, TERMINAL, timeout=30)
        names.append(request.name)
    return names


def test_value_in_on_execution_name_selects_those_executions(stub, two_finished):
    listed = _list(stub, f"value_in(execution_name,{';'.join(two_finished)})")
    assert sorted(e.id.name for e in listed.executions) == sorted(two_finished)


def test_filters_are_combined_with_plus_as_and(stub, two_finished):
    assert not _list(stub, f"eq(phase,RUNNING)+value_in(execution_name,{two_finished[0]})").executions
    listed = _list(stub, f"eq(phase,SUCCEEDED)+eq(execution_name,{two_finished[0]})")
    assert [e.id.name for e in listed.executions] == [two_finished[0]]


def test_gte_on_created_at_takes_rfc3339_timestamps(stub, admin, two_finished):
    second = admin.get_execution(two_finished[1]).closure.created_at.ToJsonString()
    names = {e.id.name for e in _list(stub, f"gte(created_at,{second})").executions}
    assert two_finished[1] in names and two_finished[0] not in names


def test_paging_hands_back_a_token_while_pages_are_full(stub, two_finished):
    sort = common_pb2.Sort(key="created_at", direction=common_pb2.Sort.ASCENDING)
    first = _list(stub, f"value_in(execution_name,{';'.join(two_finished)})", limit=1, sort_by=sort)
    second = _list(stub, f"value_in(execution_name,{';'.join(two_finished)})", limit=1, token=first.token, sort_by=sort)
    assert [first.executions[0].id.name, second.executions[0].id.name] == two_finished
    assert first.token == "1"


@pytest.mark.parametrize(
    "filters", ["eq(duration,5)", "like(phase,RUNNING)", "phase=RUNNING", "gte(created_at,yesterday)"]
)
def test_unsupported_filters_are_invalid_arguments(stub, filters):
    assert _code(lambda: _list(stub, filters)) == grpc.StatusCode.INVALID_ARGUMENT


def test_filters_on_other_lists_are_unimplemented(stub):
    request = common_pb2.ResourceListRequest(
        id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN), limit=10, filters="eq(state,1)"
    )
    assert _code(lambda: stub.ListLaunchPlans(request)) == grpc.StatusCode.UNIMPLEMENTED
