"""FlyteExecutionTrigger with pytest-asyncio, over real gRPC to the local admin."""

from __future__ import annotations

import asyncio
import importlib
import time

import pytest

from airflow_provider_flyte.exceptions import FlyteProviderError
from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.triggers.flyte import (
    FlyteExecutionTrigger,
    FlyteTriggerEvent,
)
from tests.provider.dags import launch_directly
from tests.waiting import Phase

P, D = "flytesnacks", "development"



async def first_event(trigger: FlyteExecutionTrigger) -> FlyteTriggerEvent:
    async for event in trigger.run():
        return FlyteTriggerEvent.parse(event.payload)
    raise AssertionError("trigger ended without an event")


def test_kwargs_are_identifiers_and_numbers_only():
    path, kwargs = FlyteExecutionTrigger("flyte_conn", P, D, "n", poll_interval=2.0, deadline=10.0).serialize()
    assert path == "airflow_provider_flyte.triggers.flyte.FlyteExecutionTrigger"
    assert all(v is None or isinstance(v, (str, int, float)) for v in kwargs.values())
    assert FlyteExecutionTrigger(**kwargs).serialize() == (path, kwargs)


def test_unserialisable_kwargs_are_refused_before_deferring():
    with pytest.raises(FlyteProviderError, match="Trigger argument .poll_interval. must be a string or number, got object"):
        FlyteExecutionTrigger("flyte_conn", P, D, "n", poll_interval=object())  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_yields_the_terminal_state(flyte_conn, flyte_admin):
    name = launch_directly("trigger-success", "simple.double_wf", {"x": 3})

    event = await first_event(FlyteExecutionTrigger("flyte_conn", P, D, name))

    assert event.status == "terminal" and event.state.phase == "SUCCEEDED"


@pytest.mark.asyncio
async def test_yields_a_failed_state_with_the_flyte_error(flyte_conn):
    name = launch_directly("trigger-failure", "simple.failing_wf", {"message": "trigger boom"})

    event = await first_event(FlyteExecutionTrigger("flyte_conn", P, D, name))

    assert event.state.phase == "FAILED" and "trigger boom" in event.state.error_message


@pytest.mark.asyncio
async def test_yields_timeout_at_its_own_deadline(flyte_conn):
    name = launch_directly("trigger-deadline", "simple.sleepy_wf", {"seconds": 30.0})

    started = time.monotonic()
    event = await first_event(FlyteExecutionTrigger("flyte_conn", P, D, name, deadline=time.time() + 1.5))

    assert event.status == "timeout" and event.state.phase in ("QUEUED", "RUNNING")
    assert time.monotonic() - started < 10
    FlyteHook("flyte_conn").terminate(P, D, name, "test cleanup")


@pytest.mark.asyncio
async def test_missing_execution_is_an_error_event(flyte_conn):
    event = await first_event(FlyteExecutionTrigger("flyte_conn", P, D, "trigger-no-such-execution"))

    assert event.status == "error" and "does not exist" in event.message


@pytest.mark.asyncio
async def test_on_kill_terminates_the_execution(flyte_conn, flyte_admin):
    name = launch_directly("trigger-kill", "simple.sleepy_wf", {"seconds": 30.0})
    flyte_admin.wait_for_phase(name, {Phase.RUNNING}, timeout=30)

    await FlyteExecutionTrigger("flyte_conn", P, D, name, kill_cause="marked failed in the Airflow UI").on_kill()

    execution = flyte_admin.wait_for_phase(name, {Phase.ABORTED}, timeout=30)
    assert execution.closure.abort_metadata.cause == "marked failed in the Airflow UI"


@pytest.mark.asyncio
async def test_on_kill_without_a_cause_leaves_the_execution_running(flyte_conn, flyte_admin):
    name = launch_directly("trigger-sensor-kill", "simple.sleepy_wf", {"seconds": 3.0})

    await FlyteExecutionTrigger("flyte_conn", P, D, name).on_kill()

    assert flyte_admin.wait_for_phase(name, {Phase.SUCCEEDED}, timeout=30).closure.phase == Phase.SUCCEEDED


@pytest.mark.asyncio
async def test_on_kill_after_the_execution_finished_is_harmless(flyte_conn, flyte_admin):
    name = launch_directly("trigger-kill-late", "simple.double_wf", {"x": 1})
    flyte_admin.wait_for_phase(name, {Phase.SUCCEEDED}, timeout=30)

    await FlyteExecutionTrigger("flyte_conn", P, D, name, kill_cause="late").on_kill()

    assert flyte_admin.get_execution(name).closure.phase == Phase.SUCCEEDED


@pytest.mark.asyncio
async def test_an_unreachable_admin_still_times_out_at_the_deadline(monkeypatch):
    dead = '{"conn_type": "flyte", "host": "127.0.0.1", "port": 1, "extra": {"insecure": true, "retries": 0, "timeout": 1}}'
    monkeypatch.setenv("AIRFLOW_CONN_FLYTE_DOWN", dead)

    started = time.monotonic()
    event = await first_event(FlyteExecutionTrigger("flyte_down", P, D, "unreachable", deadline=time.time() + 1.0))

    assert event.status == "timeout" and event.state.name == "unreachable"
    assert time.monotonic() - started < 10


@pytest.mark.asyncio
async def test_a_trigger_rebuilt_after_a_triggerer_restart_resumes_the_same_wait(flyte_conn):
    name = launch_directly("trigger-restart", "simple.sleepy_wf", {"seconds": 1.0})
    original = FlyteExecutionTrigger("flyte_conn", P, D, name, deadline=time.time() + 60, kill_cause="stop")

    classpath, kwargs = original.serialize()
    restarted = FlyteExecutionTrigger(**kwargs)
    event = await first_event(restarted)

    assert restarted.waiting_since == original.waiting_since and restarted.deadline == original.deadline
    assert event.status == "terminal" and event.state.phase == "SUCCEEDED"


# What FlyteExecutionTrigger.serialize() wrote in 1.0.0.dev0: rows like this may be in the
# metadata database when a deployment upgrades, and must resume the same wait.
ROW_1_0_0_DEV0 = (
    "airflow_provider_flyte.triggers.flyte.FlyteExecutionTrigger",
    {
        "conn_id": "flyte_conn",
        "project": P,
        "domain": D,
        "name": "",  # filled per test
        "poll_interval": None,
        "deadline": None,
        "waiting_since": 1795000000.0,
        "kill_cause": "Stopped by Airflow: task d.t try 1 (run r) was stopped",
    },
)


@pytest.mark.asyncio
async def test_a_trigger_row_written_by_1_0_0_dev0_resumes_after_an_upgrade(airflow_db, flyte_conn):
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session

    from tests.airflow_runs import load_trigger_kwargs

    name = launch_directly("trigger-old-row", "simple.double_wf", {"x": 2})
    classpath, kwargs = ROW_1_0_0_DEV0
    with create_session() as session:
        row = Trigger(classpath, {**kwargs, "name": name})
        session.add(row)
        session.flush()
        row_id = row.id
    with create_session() as session:  # read back as the triggerer does
        stored = session.get(Trigger, row_id)
        loaded = load_trigger_kwargs(stored)
        module, _, cls = stored.classpath.rpartition(".")
        trigger = getattr(importlib.import_module(module), cls)(**loaded)
        session.delete(stored)

    event = await first_event(trigger)

    assert trigger.serialize() == (classpath, {**kwargs, "name": name})
    assert event.status == "terminal" and event.state.phase == "SUCCEEDED"


@pytest.mark.asyncio
async def test_on_kill_finishes_terminating_when_airflow_cancels_it_again(flyte_conn, flyte_admin):
    # Airflow 3.3 re-sends the cancel on every triggerer sync until the trigger is gone.
    name = launch_directly("trigger-kill-recancelled", "simple.sleepy_wf", {"seconds": 30.0})
    flyte_admin.wait_for_phase(name, {Phase.RUNNING}, timeout=30)
    flyte_admin.faults.add_latency("TerminateExecution", 1.0)
    try:
        on_kill = asyncio.ensure_future(FlyteExecutionTrigger("flyte_conn", P, D, name, kill_cause="re-cancelled").on_kill())
        await asyncio.sleep(0.3)
        on_kill.cancel()

        execution = await asyncio.to_thread(flyte_admin.wait_for_phase, name, {Phase.ABORTED}, 30)
    finally:
        flyte_admin.faults.add_latency("TerminateExecution", 0)
    assert execution.closure.abort_metadata.cause == "re-cancelled"
