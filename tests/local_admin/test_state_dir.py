"""`state_dir`: a restarted admin still answers for past registrations and executions."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from flyteidl.admin import common_pb2, execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.service.admin_pb2_grpc import AdminServiceStub

from airflow_provider_flyte.local_admin import LocalFlyteAdmin
from airflow_provider_flyte.local_admin.persistence import Journal
from tests.local_admin.conftest import (
    DOMAIN,
    PROJECT,
    SIMPLE,
    create_request,
    execution_id,
    launch_plan_id,
    literal,
)

PHASES = core_execution_pb2.WorkflowExecution


def _admin(state_dir: Path, workflows=(SIMPLE,)) -> LocalFlyteAdmin:
    return LocalFlyteAdmin(workflows=list(workflows), project=PROJECT, domain=DOMAIN, port=0, state_dir=state_dir)


def test_a_restarted_admin_answers_for_finished_executions_and_registrations(tmp_path):
    request = create_request("simple.double_wf", {"x": literal(21)})
    with _admin(tmp_path) as admin, grpc.insecure_channel(admin.endpoint) as channel:
        AdminServiceStub(channel).CreateExecution(request)
        admin.wait_for_phase(request.name, {PHASES.SUCCEEDED}, timeout=30)
    with _admin(tmp_path, workflows=()) as admin, grpc.insecure_channel(admin.endpoint) as channel:
        stub = AdminServiceStub(channel)
        execution = stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution_id(request.name)))
        data = stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id(request.name)))
        assert stub.GetLaunchPlan(common_pb2.ObjectGetRequest(id=launch_plan_id("simple.double_wf"))).id.name
    assert execution.closure.phase == PHASES.SUCCEEDED
    assert data.full_outputs.literals["o0"].scalar.primitive.integer == 42


def test_executions_running_at_a_clean_stop_are_aborted(tmp_path):
    request = create_request("simple.sleepy_wf", {"seconds": literal(60.0)})
    with _admin(tmp_path) as admin, grpc.insecure_channel(admin.endpoint) as channel:
        AdminServiceStub(channel).CreateExecution(request)
        admin.wait_for_phase(request.name, {PHASES.RUNNING}, timeout=30)
    with _admin(tmp_path, workflows=()) as admin:
        execution = admin.get_execution(request.name)
    assert execution.closure.phase == PHASES.ABORTED
    assert execution.closure.abort_metadata.cause == "flyte-local-admin stopped"


def test_executions_left_running_by_a_crash_fail_with_a_system_error_on_restart(tmp_path):
    request = create_request("simple.double_wf")
    with _admin(tmp_path) as admin, grpc.insecure_channel(admin.endpoint) as channel:
        AdminServiceStub(channel).CreateExecution(request)
        admin.wait_for_phase(request.name, {PHASES.SUCCEEDED}, timeout=30)
        crashed = admin.get_execution(request.name)
    crashed.id.name = "crashed-run"
    crashed.closure.phase = PHASES.RUNNING
    journal = Journal(tmp_path)  # what a SIGKILLed admin would have left behind
    journal.save_execution(f"{PROJECT}/{DOMAIN}/crashed-run", crashed, crashed.closure.computed_inputs, [2])
    journal.close()
    with _admin(tmp_path, workflows=()) as admin:
        execution = admin.get_execution("crashed-run")
    assert execution.closure.phase == PHASES.FAILED
    assert execution.closure.error.kind == core_execution_pb2.ExecutionError.SYSTEM


def test_names_used_before_a_restart_stay_taken(tmp_path):
    request = create_request("simple.double_wf")
    with _admin(tmp_path) as admin, grpc.insecure_channel(admin.endpoint) as channel:
        AdminServiceStub(channel).CreateExecution(request)
        admin.wait_for_phase(request.name, {PHASES.SUCCEEDED}, timeout=30)
    with _admin(tmp_path) as admin, grpc.insecure_channel(admin.endpoint) as channel:
        with pytest.raises(grpc.RpcError) as raised:
            AdminServiceStub(channel).CreateExecution(request)
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS
