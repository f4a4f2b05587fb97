"""The port also speaks HTTP/2 in cleartext: a gRPC client (flyteidl2's grpcio stubs) reaches the same
services, with the same codes, as a Connect client over HTTP/1.1."""

from __future__ import annotations

import grpc
import pytest
from flyteidl2.common import phase_pb2
from flyteidl2.task import task_service_pb2, task_service_pb2_grpc
from flyteidl2.workflow import run_service_pb2, run_service_pb2_grpc

from tests.local_flyte2.conftest import create_request, inputs, integer, run_id, task_id


@pytest.fixture(scope="module")
def channel(service):
    with grpc.insecure_channel(service.endpoint) as opened:
        yield opened


def test_a_grpc_client_gets_task_details_and_not_found(service, channel):
    stub = task_service_pb2_grpc.TaskServiceStub(channel)
    details = stub.GetTaskDetails(task_service_pb2.GetTaskDetailsRequest(task_id=task_id(service, "arithmetic.add")), timeout=10)
    assert details.details.spec.short_name == "add"
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetTaskDetails(task_service_pb2.GetTaskDetailsRequest(task_id=task_id(service, "arithmetic.add", "nope")), timeout=10)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_grpc_client_creates_a_run_and_watches_it_to_the_end(service, channel):
    stub = run_service_pb2_grpc.RunServiceStub(channel)
    stub.CreateRun(create_request(service, "over-grpc", "arithmetic.add", inputs(x=integer(1))), timeout=10)
    stream = stub.WatchRunDetails(run_service_pb2.WatchRunDetailsRequest(run_id=run_id("over-grpc")), timeout=60)
    assert [r.details.action.status.phase for r in stream][-1] == phase_pb2.ACTION_PHASE_SUCCEEDED
