"""Injected faults: failed calls, latency, lost responses and outages, from Python and the CLI."""

from __future__ import annotations

import subprocess
import sys
import time

import grpc
import pytest
from flyteidl.admin import execution_pb2, version_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.service.admin_pb2_grpc import AdminServiceStub

from tests.local_admin.conftest import SIMPLE, create_request, execution_id, literal

PHASES = core_execution_pb2.WorkflowExecution


@pytest.fixture(autouse=True)
def no_leftover_faults(admin):
    yield
    admin.faults.clear()


def _get(stub, name: str) -> execution_pb2.Execution:
    return stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution_id(name)), timeout=10)


def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value.code()


def test_fail_next_fails_exactly_n_calls_with_the_code(stub, admin):
    request = create_request("simple.double_wf")
    stub.CreateExecution(request)
    admin.faults.fail_next("GetExecution", 2, grpc.StatusCode.UNAVAILABLE)
    assert _code(lambda: _get(stub, request.name)) == grpc.StatusCode.UNAVAILABLE
    assert _code(lambda: _get(stub, request.name)) == grpc.StatusCode.UNAVAILABLE
    assert _get(stub, request.name).id.name == request.name


def test_failed_calls_are_counted_as_received(stub, admin):
    before = admin.rpc_counts.get("GetVersion", 0)
    admin.faults.fail_next("GetVersion", 1, grpc.StatusCode.INTERNAL)
    assert _code(lambda: stub.GetVersion(version_pb2.GetVersionRequest())) == grpc.StatusCode.INTERNAL
    assert admin.rpc_counts["GetVersion"] == before + 1


def test_faults_on_one_rpc_leave_the_others_alone(stub, admin):
    admin.faults.fail_next("GetExecution", 1)
    assert stub.GetVersion(version_pb2.GetVersionRequest()).control_plane_version.Version


def test_latency_delays_the_rpc(stub, admin):
    admin.faults.add_latency("GetVersion", 0.3)
    started = time.monotonic()
    stub.GetVersion(version_pb2.GetVersionRequest())
    assert time.monotonic() - started >= 0.3


def test_lost_create_response_still_creates_the_execution(stub, admin):
    request = create_request("simple.double_wf", {"x": literal(4)})
    admin.faults.lose_next_response("CreateExecution")
    assert _code(lambda: stub.CreateExecution(request)) == grpc.StatusCode.UNAVAILABLE
    admin.wait_for_phase(request.name, {PHASES.SUCCEEDED}, timeout=30)
    assert _code(lambda: stub.CreateExecution(request)) == grpc.StatusCode.ALREADY_EXISTS


def test_outage_closes_the_port_and_serves_again_while_executions_run(stub, admin):
    request = create_request("simple.sleepy_wf", {"seconds": literal(0.5)})
    stub.CreateExecution(request)
    admin.faults.outage(1.5)
    with grpc.insecure_channel(admin.endpoint) as channel:
        fresh = AdminServiceStub(channel)
        assert _code(lambda: fresh.GetVersion(version_pb2.GetVersionRequest(), timeout=0.5)) in (
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.DEADLINE_EXCEEDED,
        )
    admin.wait_for_phase(request.name, {PHASES.SUCCEEDED}, timeout=30)
    assert not admin.serving  # the run finished during the outage
    get = execution_pb2.WorkflowExecutionGetRequest(id=execution_id(request.name))
    assert stub.GetExecution(get, timeout=10, wait_for_ready=True).closure.phase == PHASES.SUCCEEDED
    assert admin.serving


def test_cli_fault_flags_apply_from_the_first_call():
    process = subprocess.Popen(
        [
            sys.executable, "-m", "airflow_provider_flyte.local_admin.cli", "--port", "0",
            "--workflows", str(SIMPLE), "--fail", "GetVersion:1:PERMISSION_DENIED",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        endpoint = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        with grpc.insecure_channel(endpoint) as channel:
            cli_stub = AdminServiceStub(channel)
            call = lambda: cli_stub.GetVersion(version_pb2.GetVersionRequest(), timeout=10)
            assert _code(call) == grpc.StatusCode.PERMISSION_DENIED
            assert call().control_plane_version.Version
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stdout.close()


def test_clearing_faults_ends_an_outage_at_once(stub, admin):
    admin.faults.outage(60)
    assert not admin.serving
    admin.faults.clear()
    assert admin.serving
    assert stub.GetVersion(version_pb2.GetVersionRequest(), timeout=10, wait_for_ready=True).control_plane_version
