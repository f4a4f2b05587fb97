"""Tests can make the service fail or slow down chosen calls, the way a real control plane sometimes does."""

from __future__ import annotations

import time

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from flyteidl2.workflow import run_service_pb2

from tests.local_flyte2.conftest import create_request, inputs, integer, run_id


@pytest.fixture(autouse=True)
def no_faults_left(service):
    yield
    service.faults.clear()


def test_fail_next_fails_that_many_calls_of_the_method_with_the_code_then_serves_again(service, runs):
    runs.create_run(create_request(service, "faulted", "arithmetic.add", inputs(x=integer(1))))
    service.faults.fail_next(2, Code.UNAVAILABLE, method="GetRunDetails")
    request = run_service_pb2.GetRunDetailsRequest(run_id=run_id("faulted"))
    for _ in range(2):
        with pytest.raises(ConnectError) as raised:
            runs.get_run_details(request)
        assert raised.value.code == Code.UNAVAILABLE
    assert runs.get_run_details(request).details.action.id.run.name == "faulted"


def test_a_fault_for_one_method_leaves_the_others_alone(service, runs):
    service.faults.fail_next(1, Code.INTERNAL, method="AbortRun")
    runs.create_run(create_request(service, "untouched", "arithmetic.add", inputs(x=integer(1))))
    with pytest.raises(ConnectError) as raised:
        runs.abort_run(run_service_pb2.AbortRunRequest(run_id=run_id("untouched")))
    assert raised.value.code == Code.INTERNAL


def test_a_failed_create_run_creates_no_run(service, runs):
    service.faults.fail_next(1, Code.UNAVAILABLE, method="CreateRun")
    with pytest.raises(ConnectError):
        runs.create_run(create_request(service, "never-made", "arithmetic.add", inputs(x=integer(1))))
    assert "never-made" not in [r.name for r in service.runs()]


def test_latency_delays_every_call_of_the_method(service, runs):
    runs.create_run(create_request(service, "slowed", "arithmetic.add", inputs(x=integer(1))))
    service.faults.set_latency(0.3, method="GetRunDetails")
    started = time.monotonic()
    runs.get_run_details(run_service_pb2.GetRunDetailsRequest(run_id=run_id("slowed")))
    assert time.monotonic() - started >= 0.3


def test_a_fault_on_a_watch_fails_the_stream(service, runs):
    runs.create_run(create_request(service, "watched", "arithmetic.add", inputs(x=integer(1))))
    service.faults.fail_next(1, Code.UNAVAILABLE, method="WatchRunDetails")
    with pytest.raises(ConnectError) as raised:
        list(runs.watch_run_details(run_service_pb2.WatchRunDetailsRequest(run_id=run_id("watched"))))
    assert raised.value.code == Code.UNAVAILABLE
