"""Executions beyond the parallelism bound wait QUEUED; both worker modes behave the same."""

from __future__ import annotations

import grpc
import pytest
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.service.admin_pb2_grpc import AdminServiceStub

from airflow_provider_flyte.local_admin import LocalFlyteAdmin
from tests.local_admin.conftest import DOMAIN, PROJECT, SIMPLE, create_request, literal

PHASES = core_execution_pb2.WorkflowExecution


@pytest.fixture(scope="module", params=["zygote", "subprocess"])
def single_slot_admin(request):
    with LocalFlyteAdmin(
        workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=0, parallelism=1, worker_mode=request.param
    ) as admin:
        yield admin


def test_executions_beyond_the_bound_stay_queued_until_a_slot_frees(single_slot_admin):
    admin = single_slot_admin
    with grpc.insecure_channel(admin.endpoint) as channel:
        stub = AdminServiceStub(channel)
        first = create_request("simple.sleepy_wf", {"seconds": literal(1.0)})
        second = create_request("simple.double_wf", {"x": literal(2)})
        stub.CreateExecution(first)
        stub.CreateExecution(second)
        admin.wait_for_phase(first.name, {PHASES.RUNNING}, timeout=30)
        assert admin.get_execution(second.name).closure.phase == PHASES.QUEUED
        admin.wait_for_phase(second.name, {PHASES.SUCCEEDED}, timeout=30)
        assert admin.get_execution(first.name).closure.phase == PHASES.SUCCEEDED


def test_stop_aborts_what_is_still_running():
    with LocalFlyteAdmin(workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=0) as admin:
        with grpc.insecure_channel(admin.endpoint) as channel:
            request = create_request("simple.sleepy_wf", {"seconds": literal(60.0)})
            AdminServiceStub(channel).CreateExecution(request)
        admin.wait_for_phase(request.name, {PHASES.RUNNING}, timeout=30)
    assert admin.get_execution(request.name).closure.phase == PHASES.ABORTED


def test_stop_gives_queued_executions_the_same_abort_cause():
    with LocalFlyteAdmin(workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=0, parallelism=1) as admin:
        with grpc.insecure_channel(admin.endpoint) as channel:
            stub = AdminServiceStub(channel)
            running = create_request("simple.sleepy_wf", {"seconds": literal(60.0)})
            queued = create_request("simple.sleepy_wf", {"seconds": literal(60.0)})
            stub.CreateExecution(running)
            stub.CreateExecution(queued)
        admin.wait_for_phase(running.name, {PHASES.RUNNING}, timeout=30)
    for request in (running, queued):
        closure = admin.get_execution(request.name).closure
        assert closure.phase == PHASES.ABORTED and closure.abort_metadata.cause == "flyte-local-admin stopped"


def test_a_second_admin_cannot_take_a_port_in_use():
    import pytest

    with LocalFlyteAdmin(workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=0) as first:
        with pytest.raises(OSError, match="could not bind"):
            LocalFlyteAdmin(workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=first.port).start()
