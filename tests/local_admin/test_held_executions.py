"""`parallelism=0` holds executions: QUEUED forever at no cost, until terminated or the admin stops."""

from __future__ import annotations

import base64
import json
import os
import statistics
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from flyteidl.admin import common_pb2, execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.service.admin_pb2_grpc import AdminServiceStub

from airflow_provider_flyte.local_admin import ClientSecretAuth, LocalFlyteAdmin
from tests.local_admin.conftest import DOMAIN, PROJECT, SIMPLE, create_request, execution_id, literal

PHASES = core_execution_pb2.WorkflowExecution
CLIENT_ID = "bench-client"
CLIENT_SECRET = "pw"
STOP_CAUSE = "flyte-local-admin stopped"


@pytest.fixture(scope="module")
def holding() -> Iterator[LocalFlyteAdmin]:
    auth = ClientSecretAuth(CLIENT_ID, CLIENT_SECRET)
    with LocalFlyteAdmin(workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=0, parallelism=0, auth=auth) as admin:
        yield admin


@pytest.fixture(scope="module")
def stub(holding: LocalFlyteAdmin) -> Iterator[AdminServiceStub]:
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    request = urllib.request.Request(
        holding.token_endpoint, data=b"grant_type=client_credentials&scope=all", headers={"Authorization": f"Basic {basic}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        token = json.loads(response.read())["access_token"]
    bearer = grpc.metadata_call_credentials(lambda context, callback: callback(
        [("flyte-authorization", f"Bearer {token}")], None
    ))
    credentials = grpc.composite_channel_credentials(grpc.local_channel_credentials(), bearer)
    with grpc.secure_channel(holding.endpoint, credentials) as channel:
        yield AdminServiceStub(channel)


def _hold(stub: AdminServiceStub) -> str:
    request = create_request("simple.sleepy_wf", {"seconds": literal(0.1)})
    stub.CreateExecution(request)
    return request.name


def _terminate(stub: AdminServiceStub, name: str, cause: str = "no longer needed") -> None:
    stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=execution_id(name), cause=cause))


def _children() -> set[int]:
    """Pids of this process's child processes."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            children.add(int(stat.parent.name))
    return children


def test_with_parallelism_zero_every_execution_stays_queued(holding, stub):
    names = [_hold(stub) for _ in range(20)]
    time.sleep(1.0)
    assert {holding.get_execution(name).closure.phase for name in names} == {PHASES.QUEUED}
    assert {tuple(holding.phase_history(name)) for name in names} == {(PHASES.UNDEFINED, PHASES.QUEUED)}


def test_with_parallelism_zero_no_process_is_started():
    before = _children()
    with LocalFlyteAdmin(workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=0, parallelism=0) as admin:
        with grpc.insecure_channel(admin.endpoint) as channel:
            for _ in range(10):
                _hold(AdminServiceStub(channel))
        time.sleep(0.5)
        assert _children() - before == set()  # no worker, and no zygote either


def test_terminating_a_held_execution_aborts_it_within_a_second(holding, stub):
    name = _hold(stub)
    started = time.monotonic()
    _terminate(stub, name)
    holding.wait_for_phase(name, {PHASES.ABORTED}, timeout=1.0)
    assert time.monotonic() - started < 1.0


def test_a_terminated_held_execution_goes_through_aborting_to_aborted(holding, stub):
    name = _hold(stub)
    _terminate(stub, name)
    holding.wait_for_phase(name, {PHASES.ABORTED}, timeout=5)
    assert holding.phase_history(name) == [PHASES.UNDEFINED, PHASES.QUEUED, PHASES.ABORTING, PHASES.ABORTED]


def test_a_terminated_held_execution_records_the_cause_and_the_principal(holding, stub):
    name = _hold(stub)
    _terminate(stub, name, cause="Airflow task was killed")
    holding.wait_for_phase(name, {PHASES.ABORTED}, timeout=5)
    got = stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution_id(name)))
    assert got.closure.abort_metadata.cause == "Airflow task was killed"
    assert got.closure.abort_metadata.principal == CLIENT_ID
    assert got.closure.HasField("duration") and not got.closure.HasField("started_at")


def test_terminating_an_aborted_held_execution_is_a_failed_precondition(holding, stub):
    name = _hold(stub)
    _terminate(stub, name)
    holding.wait_for_phase(name, {PHASES.ABORTED}, timeout=5)
    with pytest.raises(grpc.RpcError) as raised:
        _terminate(stub, name)
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_stopping_the_admin_aborts_held_executions_with_the_stop_cause():
    with LocalFlyteAdmin(workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=0, parallelism=0) as admin:
        with grpc.insecure_channel(admin.endpoint) as channel:
            names = [_hold(AdminServiceStub(channel)) for _ in range(3)]
    for name in names:
        closure = admin.get_execution(name).closure
        assert closure.phase == PHASES.ABORTED and closure.abort_metadata.cause == STOP_CAUSE


def test_held_executions_are_stored_aborted_when_the_admin_stops(tmp_path):
    with LocalFlyteAdmin(workflows=[SIMPLE], port=0, parallelism=0, state_dir=tmp_path) as admin:
        with grpc.insecure_channel(admin.endpoint) as channel:
            name = _hold(AdminServiceStub(channel))
    with LocalFlyteAdmin(workflows=[SIMPLE], port=0, parallelism=0, state_dir=tmp_path) as restarted:
        closure = restarted.get_execution(name).closure
    assert closure.phase == PHASES.ABORTED and closure.abort_metadata.cause == STOP_CAUSE


def test_negative_parallelism_is_refused():
    with pytest.raises(ValueError):
        LocalFlyteAdmin(workflows=[SIMPLE], port=0, parallelism=-1)


def test_listing_200_held_executions_by_name_among_4000_is_cheap():
    with LocalFlyteAdmin(workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=0, parallelism=0) as admin:
        with grpc.insecure_channel(admin.endpoint) as channel:
            stub = AdminServiceStub(channel)
            with ThreadPoolExecutor(8) as pool:
                names = list(pool.map(lambda _: _hold(stub), range(4000)))
            timings = []
            for start in range(0, 1400, 200):
                wanted = names[start : start + 200]
                request = common_pb2.ResourceListRequest(
                    id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN),
                    limit=200, filters=f"value_in(execution_name,{';'.join(wanted)})",
                )
                began = time.perf_counter()
                listed = stub.ListExecutions(request)
                timings.append(time.perf_counter() - began)
                assert {e.id.name for e in listed.executions} == set(wanted)
    assert statistics.median(timings) < 0.025  # about 2 ms here; a scan of every execution took 40
