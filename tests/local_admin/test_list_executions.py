"""ListExecutions returns what flyteadmin 1.16's returns: trimmed error messages, no deprecated
input fields, limit and token checked, decimal offset paging, and value_in over many names."""

from __future__ import annotations

import grpc
import pytest
from flyteidl.admin import common_pb2, execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import literals_pb2

from airflow_provider_flyte.local_admin.listing import trim_error_message
from tests.local_admin.conftest import DOMAIN, PROJECT, create_request, execution_id, literal

PHASES = core_execution_pb2.WorkflowExecution
TERMINAL = {PHASES.SUCCEEDED, PHASES.FAILED, PHASES.TIMED_OUT, PHASES.ABORTED}
CAUSE = "the cause, on the last line of the traceback, is what matters"


def _list(stub, filters: str = "", limit: int = 100, token: str = "", sort_by=None) -> execution_pb2.ExecutionList:
    return stub.ListExecutions(
        common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN),
            limit=limit, token=token, filters=filters, sort_by=sort_by,
        )
    )


def _listed(stub, name: str) -> execution_pb2.Execution:
    (listed,) = _list(stub, f"eq(execution_name,{name})").executions
    return listed


def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value.code()


@pytest.fixture(scope="module")
def failed(stub, admin) -> str:
    """A run failing with a long user error whose cause is on its last line."""
    request = create_request("simple.failing_wf", {"message": literal(CAUSE)})
    stub.CreateExecution(request)
    assert admin.wait_for_phase(request.name, TERMINAL, timeout=60).closure.phase == PHASES.FAILED
    return request.name


@pytest.fixture(scope="module")
def with_spec_inputs(stub, admin) -> str:
    """Created the deprecated way, with its inputs in `spec.inputs`."""
    request = create_request("simple.double_wf")
    request.spec.inputs.CopyFrom(literals_pb2.LiteralMap(literals={"x": literal(3)}))
    stub.CreateExecution(request)
    admin.wait_for_phase(request.name, TERMINAL, timeout=60)
    return request.name


@pytest.fixture(scope="module")
def five_finished(stub, admin) -> list[str]:
    names = []
    for x in range(5):
        request = create_request("simple.double_wf", {"x": literal(x)})
        stub.CreateExecution(request)
        names.append(request.name)
    for name in names:
        admin.wait_for_phase(name, TERMINAL, timeout=60)
    return names


def test_get_execution_returns_the_error_message_whole(stub, failed):
    message = stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution_id(failed))).closure.error.message
    assert len(message.encode()) > 100
    assert message.rstrip().splitlines()[-1].strip() == CAUSE


def test_list_executions_trims_the_error_message_to_its_first_100_bytes(stub, failed):
    whole = stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution_id(failed))).closure.error
    listed = _listed(stub, failed).closure.error
    assert listed.message.encode() == whole.message.encode()[:100]
    assert CAUSE not in listed.message
    assert (listed.code, listed.kind) == (whole.code, whole.kind)


def test_trimming_drops_a_multibyte_character_cut_at_byte_100():
    message = "a" * 99 + "€ and more"  # "€" is 3 bytes: bytes 100-102
    assert trim_error_message(message) == "a" * 99
    assert trim_error_message("a" * 98 + "é" + "tail") == "a" * 98 + "é"  # "é" ends exactly at byte 100


def test_messages_of_100_bytes_or_less_are_not_trimmed():
    assert trim_error_message("x" * 100) == "x" * 100
    assert trim_error_message("short") == "short"
    assert trim_error_message("€" * 33) == "€" * 33  # 99 bytes


def test_list_executions_clears_the_deprecated_spec_inputs_and_computed_inputs(stub, with_spec_inputs):
    got = stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution_id(with_spec_inputs)))
    assert got.spec.inputs.literals["x"].scalar.primitive.integer == 3
    assert got.closure.computed_inputs.literals
    listed = _listed(stub, with_spec_inputs)
    assert not listed.spec.HasField("inputs") and not listed.closure.HasField("computed_inputs")
    assert listed.spec.launch_plan == got.spec.launch_plan and listed.closure.phase == got.closure.phase


def test_listing_leaves_the_stored_execution_untouched(stub, admin, failed, with_spec_inputs):
    _list(stub, f"value_in(execution_name,{failed};{with_spec_inputs})")
    assert len(admin.get_execution(failed).closure.error.message.encode()) > 100
    assert admin.get_execution(with_spec_inputs).spec.inputs.literals
    assert admin.get_execution(with_spec_inputs).closure.computed_inputs.literals


def test_list_executions_refuses_limit_zero(stub):
    assert _code(lambda: _list(stub, limit=0)) == grpc.StatusCode.INVALID_ARGUMENT


def test_limit_zero_is_refused_before_the_filters_are_read(stub):
    with pytest.raises(grpc.RpcError) as raised:
        _list(stub, "eq(nonsense,1)", limit=0)
    assert raised.value.details() == "invalid value for limit"


@pytest.mark.parametrize("token", ["abc", "-1", "1.5"])
def test_a_token_that_is_not_a_decimal_offset_is_invalid(stub, token):
    assert _code(lambda: _list(stub, token=token)) == grpc.StatusCode.INVALID_ARGUMENT


def test_pages_carry_a_decimal_offset_token_only_when_full(stub, five_finished):
    names, sort = ";".join(five_finished), common_pb2.Sort(key="created_at", direction=common_pb2.Sort.ASCENDING)
    pages, token = [], ""
    while True:
        page = _list(stub, f"value_in(execution_name,{names})", limit=2, token=token, sort_by=sort)
        pages.append(([e.id.name for e in page.executions], page.token))
        if not page.token:
            break
        token = page.token
    assert pages == [(five_finished[0:2], "2"), (five_finished[2:4], "4"), (five_finished[4:], "")]


def test_a_full_last_page_still_carries_a_token_and_the_next_page_is_empty(stub, five_finished):
    names = ";".join(five_finished[:4])
    first = _list(stub, f"value_in(execution_name,{names})", limit=4)
    assert first.token == "4"
    after = _list(stub, f"value_in(execution_name,{names})", limit=4, token=first.token)
    assert not after.executions and after.token == ""


def test_value_in_with_300_names_selects_exactly_the_stored_ones(stub, five_finished):
    unknown = [f"never-created-{i}" for i in range(295)]
    names = unknown[:150] + five_finished + unknown[150:]
    listed = _list(stub, f"value_in(execution_name,{';'.join(names)})", limit=1000)
    assert [e.id.name for e in listed.executions] == five_finished  # in creation order, like the unsorted list
    assert listed.token == ""


def test_value_in_on_names_combines_with_a_phase_filter(stub, five_finished, failed):
    names = ";".join([*five_finished, failed])
    listed = _list(stub, f"value_in(execution_name,{names})+eq(phase,FAILED)")
    assert [e.id.name for e in listed.executions] == [failed]


def test_two_name_filters_select_the_names_they_share(stub, five_finished):
    first, second = ";".join(five_finished[:3]), ";".join(five_finished[2:])
    listed = _list(stub, f"value_in(execution_name,{first})+value_in(execution_name,{second})")
    assert [e.id.name for e in listed.executions] == [five_finished[2]]


def test_value_not_in_on_names_excludes_them(stub, five_finished):
    listed = _list(stub, f"value_not_in(execution_name,{';'.join(five_finished[1:])})", limit=1000)
    names = {e.id.name for e in listed.executions}
    assert five_finished[0] in names and not names & set(five_finished[1:])


def test_the_launch_plan_filter_joins_the_launch_plan_an_execution_ran(stub, five_finished, failed):
    listed = _list(stub, "eq(launch_plan.name,simple.failing_wf)", limit=1000)
    names = {e.id.name for e in listed.executions}
    assert failed in names and not names & set(five_finished)


def test_listing_by_last_change_time_oldest_first(stub, five_finished):
    changed = sorted(_listed(stub, name).closure.updated_at.ToDatetime() for name in five_finished)
    since = changed[2].isoformat() + "Z"
    by_change = common_pb2.Sort(key="execution_updated_at", direction=common_pb2.Sort.ASCENDING)
    listed = _list(stub, f"value_in(execution_name,{';'.join(five_finished)})+gte(execution_updated_at,{since})", sort_by=by_change)
    assert [e.closure.updated_at.ToDatetime() for e in listed.executions] == changed[2:]
