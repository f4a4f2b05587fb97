"""CreateExecution rejects bad requests in flyteadmin's order, with its codes and messages."""

from __future__ import annotations

import grpc
import pytest
from flyteidl.admin import execution_pb2
from flyteidl.core import literals_pb2

from tests.local_admin.conftest import create_request, launch_plan_id, literal


def _rejection(stub, request: execution_pb2.ExecutionCreateRequest) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateExecution(request)
    return raised.value


def test_name_must_match_the_kubernetes_label_pattern(stub):
    error = _rejection(stub, create_request("simple.double_wf", name="1-starts-with-digit"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "invalid name format: 1-starts-with-digit, does not match regex '^[a-z][a-z\\-0-9]*$'"


def test_name_is_at_most_63_characters(stub):
    error = _rejection(stub, create_request("simple.double_wf", name="a" * 64))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == f"size of name exceeded length 63 : {'a' * 64}"


def test_unregistered_project_is_invalid_argument_not_not_found(stub):
    request = create_request("simple.double_wf")
    request.project = "elsewhere"
    error = _rejection(stub, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(
        "failed to validate that project [elsewhere] and domain [development] are registered"
    )


def test_unknown_domain_is_invalid_argument(stub):
    request = create_request("simple.double_wf")
    request.domain = "production"
    assert _rejection(stub, request).code() == grpc.StatusCode.INVALID_ARGUMENT


def test_launch_plan_reference_needs_a_version(stub):
    request = create_request("simple.double_wf")
    request.spec.launch_plan.version = ""
    error = _rejection(stub, request)
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "missing version")


def test_unknown_launch_plan_is_not_found(stub):
    request = create_request("simple.double_wf")
    request.spec.launch_plan.CopyFrom(launch_plan_id("simple.nothing"))
    error = _rejection(stub, request)
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details().startswith("missing entity of type LAUNCH_PLAN with identifier")


def test_unknown_input_is_rejected(stub):
    error = _rejection(stub, create_request("simple.double_wf", {"y": literal(1)}))
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid input y")


def test_missing_required_input_is_rejected(stub):
    error = _rejection(stub, create_request("simple.summarize_wf"))
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "expected_inputs values missing")


def test_input_of_the_wrong_type_is_rejected(stub):
    error = _rejection(stub, create_request("simple.double_wf", {"x": literal("three")}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("invalid x input wrong type. Expected simple: INTEGER, but got simple: STRING")


def test_collection_of_the_wrong_element_type_is_rejected(stub):
    strings = literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=[literal("a")]))
    error = _rejection(stub, create_request("simple.summarize_wf", {"values": strings}))
    assert error.details().startswith("invalid values input wrong type")


def test_fixed_input_cannot_be_overridden(stub):
    # flyteadmin checks fixed inputs after expected ones, so the override is reported as unknown first
    error = _rejection(stub, create_request("simple.double_fixed", {"x": literal(7)}))
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid input x")


def test_duplicate_name_already_exists(stub):
    request = create_request("simple.double_wf", {"x": literal(2)})
    stub.CreateExecution(request)
    error = _rejection(stub, request)
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error.details().startswith("value with matching already exists")


def test_fixed_input_also_declared_as_expected_cannot_be_overridden():
    from flyteidl.admin import launch_plan_pb2
    from flyteidl.core import interface_pb2, types_pb2

    from airflow_provider_flyte.local_admin.errors import AdminError
    from airflow_provider_flyte.local_admin.validation import merged_inputs

    integer = interface_pb2.Variable(type=types_pb2.LiteralType(simple=types_pb2.INTEGER))
    launch_plan = launch_plan_pb2.LaunchPlan(
        spec=launch_plan_pb2.LaunchPlanSpec(fixed_inputs=literals_pb2.LiteralMap(literals={"x": literal(5)})),
        closure=launch_plan_pb2.LaunchPlanClosure(
            expected_inputs=interface_pb2.ParameterMap(parameters={"x": interface_pb2.Parameter(var=integer)})
        ),
    )
    with pytest.raises(AdminError, match="^fixed_inputs x cannot be overridden$"):
        merged_inputs(literals_pb2.LiteralMap(literals={"x": literal(7)}), launch_plan)
