"""Transient FlyteAdmin faults are retried with backoff, permanent ones are not (fault injection)."""

from __future__ import annotations

import time

import grpc
import pytest

from airflow_provider_flyte.hooks.admin_messages import LaunchOptions
from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger, FlyteTriggerEvent
from tests.airflow_runs import run_dag, xcom
from tests.conftest import connection_json
from tests.provider.dags import single_launch_dag
from tests.waiting import Phase, when_running

P, D = "flytesnacks", "development"


@pytest.fixture
def faults(flyte_admin):
    yield flyte_admin.faults
    flyte_admin.faults.clear()


@pytest.fixture
def hook(flyte_admin, flyte_conn, monkeypatch) -> FlyteHook:
    monkeypatch.setenv("AIRFLOW_CONN_FLYTE_RETRY", connection_json(flyte_admin, retries=3, timeout=5))
    return FlyteHook("flyte_retry")


@pytest.fixture(scope="module")
def done_execution(flyte_admin, flyte_conn) -> str:
    hook = FlyteHook("flyte_conn")
    hook.launch(hook.resolve_launch_plan(P, D, "simple.double_wf"), "retry-target", {"x": 1}, LaunchOptions())
    flyte_admin.wait_for_phase("retry-target", {Phase.SUCCEEDED}, timeout=30)
    return "retry-target"


def calls(admin, method: str) -> int:
    return admin.rpc_counts.get(method, 0)


@pytest.mark.parametrize("code", ["UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "INTERNAL"])
def test_transient_failures_of_a_read_are_retried(hook, faults, flyte_admin, done_execution, code):
    faults.fail_next("GetExecution", 2, grpc.StatusCode[code])
    before = calls(flyte_admin, "GetExecution")

    assert hook.get_execution(P, D, done_execution).phase == "SUCCEEDED"
    assert calls(flyte_admin, "GetExecution") - before == 3


@pytest.mark.parametrize("code", ["INVALID_ARGUMENT", "PERMISSION_DENIED", "FAILED_PRECONDITION", "ALREADY_EXISTS"])
def test_permanent_failures_are_not_retried(hook, faults, flyte_admin, done_execution, code):
    faults.fail_next("GetExecution", 1, grpc.StatusCode[code])
    before = calls(flyte_admin, "GetExecution")

    with pytest.raises(grpc.RpcError) as err:
        hook.get_execution(P, D, done_execution)
    assert err.value.code() is grpc.StatusCode[code]
    assert calls(flyte_admin, "GetExecution") - before == 1


def test_internal_on_a_write_is_not_retried(hook, faults, flyte_admin):
    target = hook.resolve_launch_plan(P, D, "simple.double_wf")
    faults.fail_next("CreateExecution", 1, grpc.StatusCode.INTERNAL)
    before = calls(flyte_admin, "CreateExecution")

    with pytest.raises(grpc.RpcError):
        hook.launch(target, "internal-write", {"x": 1}, LaunchOptions())
    assert calls(flyte_admin, "CreateExecution") - before == 1


def test_retries_stop_at_the_connections_bound(hook, faults, flyte_admin, done_execution):
    faults.fail_next("GetExecution", 10, grpc.StatusCode.UNAVAILABLE)
    before = calls(flyte_admin, "GetExecution")

    with pytest.raises(grpc.RpcError):
        hook.get_execution(P, D, done_execution)
    assert calls(flyte_admin, "GetExecution") - before == 4  # 1 + retries=3


def test_backoff_grows_between_retries(hook, faults, done_execution):
    faults.fail_next("GetExecution", 3, grpc.StatusCode.UNAVAILABLE)

    started = time.monotonic()
    hook.get_execution(P, D, done_execution)

    assert time.monotonic() - started >= 0.5 + 1.0 + 2.0


def test_every_call_has_a_deadline(flyte_admin, faults, done_execution, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_FLYTE_SLOW", connection_json(flyte_admin, retries=0, timeout=1))
    faults.add_latency("GetExecution", 3)

    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as err:
        FlyteHook("flyte_slow").get_execution(P, D, done_execution)
    assert err.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 2.5


def test_a_lost_create_response_leaves_exactly_one_execution(airflow_db, flyte_conn, flyte_admin, faults):
    faults.lose_next_response("CreateExecution")

    run = run_dag(single_launch_dag("lost_response", "simple.double_wf", {"x": 5}))

    assert run.state == "success"
    name = xcom(run, "launch")
    assert [e.id.name for e in flyte_admin.executions()].count(name) == 1
    assert xcom(run, "launch", key="outputs") == {"o0": 10}


def test_an_admin_outage_during_a_blocking_wait_does_not_fail_the_task(airflow_db, flyte_conn, flyte_admin, faults):
    dag = single_launch_dag("outage_wait", "simple.sleepy_wf", {"seconds": 6.0}, poll_interval=0.5)

    def outage_while_waiting(_execution) -> None:
        time.sleep(1.5)  # past the launch's own reads, into the wait's polls
        faults.outage(4)

    with when_running(flyte_admin, lambda name: name.startswith("af-outage-wait"), outage_while_waiting):
        run = run_dag(dag)

    assert run.state == "success"
    assert xcom(run, "launch", key="outputs") == {"o0": 6.0}


@pytest.mark.asyncio
async def test_transient_errors_never_end_the_triggers_wait(flyte_admin, flyte_conn, faults, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_FLYTE_FLAKY", connection_json(flyte_admin, retries=1, timeout=5))
    hook = FlyteHook("flyte_conn")
    hook.launch(hook.resolve_launch_plan(P, D, "simple.sleepy_wf"), "trigger-flaky", {"seconds": 1.0}, LaunchOptions())
    faults.fail_next("GetExecution", 6, grpc.StatusCode.UNAVAILABLE)

    trigger = FlyteExecutionTrigger("flyte_flaky", P, D, "trigger-flaky", poll_interval=0.2)
    async for event in trigger.run():
        parsed = FlyteTriggerEvent.parse(event.payload)
        break

    assert parsed.status == "terminal" and parsed.state.phase == "SUCCEEDED"
