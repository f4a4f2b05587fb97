"""Flyte2RunTrigger with pytest-asyncio, over real Connect to the local Flyte 2 run service."""

from __future__ import annotations

import asyncio
import json

import pytest
from connectrpc.code import Code

from airflow_provider_flyte.exceptions import FlyteProviderError
from airflow_provider_flyte.flyte2.hook import Flyte2Hook
from airflow_provider_flyte.flyte2.messages import RunOptions
from airflow_provider_flyte.flyte2.phases import RunState
from airflow_provider_flyte.flyte2.pool import Flyte2ClientPool
from airflow_provider_flyte.flyte2.trigger import Flyte2RunTrigger
from airflow_provider_flyte.flyte2.waiting import RunEvent
from tests.conftest import DOMAIN, PROJECT
from tests.flyte2.conftest import flyte2_connection_json


def start(name: str, task: str, inputs: dict) -> str:
    hook = Flyte2Hook("flyte2_conn")
    hook.launch(hook.resolve_task("", PROJECT, DOMAIN, task), "", PROJECT, DOMAIN, name, inputs, RunOptions())
    return name


async def first_event(trigger: Flyte2RunTrigger) -> RunEvent:
    async for event in trigger.run():
        return RunEvent.parse(event.payload)
    raise AssertionError("trigger ended without an event")


def test_kwargs_are_identifiers_and_numbers_only_and_round_trip():
    path, kwargs = Flyte2RunTrigger("flyte2_conn", PROJECT, DOMAIN, "n", poll_interval=2.0, deadline=10.0).serialize()

    assert path == "airflow_provider_flyte.flyte2.trigger.Flyte2RunTrigger"
    assert all(v is None or isinstance(v, (str, int, float)) for v in kwargs.values())
    assert Flyte2RunTrigger(**kwargs).serialize() == (path, kwargs)


def test_kwargs_carry_the_connection_id_never_its_secret(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_F2_SECRET", json.dumps({"conn_type": "flyte2", "host": "h", "password": "s3cr3t-token", "extra": {"auth_mode": "bearer"}}))

    _, kwargs = Flyte2RunTrigger("f2_secret", PROJECT, DOMAIN, "n", kill_cause="Stopped by Airflow: x").serialize()

    assert "s3cr3t-token" not in json.dumps(kwargs)


def test_unserialisable_kwargs_are_refused_before_deferring():
    with pytest.raises(FlyteProviderError, match="Trigger argument .poll_interval. must be a string or number, got object"):
        Flyte2RunTrigger("flyte2_conn", PROJECT, DOMAIN, "n", poll_interval=object())  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_yields_the_terminal_state(flyte2_conn):
    name = start("trig-success", "provider.scale", {"values": [1]})

    event = await first_event(Flyte2RunTrigger(flyte2_conn, PROJECT, DOMAIN, name))

    assert event.status == "terminal" and event.state is not None and event.state.phase == "SUCCEEDED"


@pytest.mark.asyncio
async def test_yields_a_failed_state_with_the_flyte_error(flyte2_conn):
    name = start("trig-failure", "provider.fail", {"message": "trigger boom"})

    event = await first_event(Flyte2RunTrigger(flyte2_conn, PROJECT, DOMAIN, name))

    assert event.state is not None and event.state.phase == "FAILED" and "trigger boom" in event.state.error_message


@pytest.mark.asyncio
async def test_a_run_that_does_not_exist_is_an_error_event(flyte2_conn):
    event = await first_event(Flyte2RunTrigger(flyte2_conn, PROJECT, DOMAIN, "trig-nobody"))

    assert event.status == "error" and "does not exist" in event.message


@pytest.mark.asyncio
async def test_the_deadline_ends_the_wait_with_a_timeout_event(flyte2_conn):
    import time

    name = start("trig-deadline", "provider.nap", {"seconds": 30.0})

    event = await first_event(Flyte2RunTrigger(flyte2_conn, PROJECT, DOMAIN, name, deadline=time.time() + 1.5))

    assert event.status == "timeout" and event.state is not None and not event.state.is_terminal
    assert Flyte2Hook(flyte2_conn).abort("", PROJECT, DOMAIN, name, "test cleanup")


@pytest.mark.asyncio
async def test_an_outage_longer_than_the_clients_retries_does_not_end_the_wait(flyte2_conn, flyte2_service, faults, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_F2_ONE_RETRY", flyte2_connection_json(flyte2_service, retries=1))
    name = start("trig-outage", "provider.nap", {"seconds": 1.0})
    faults.fail_next(3, Code.UNAVAILABLE, method="GetRunDetails")  # the client tries twice per call

    event = await first_event(Flyte2RunTrigger("f2_one_retry", PROJECT, DOMAIN, name))

    assert event.status == "terminal" and event.state is not None and event.state.phase == "SUCCEEDED"


@pytest.mark.asyncio
async def test_waits_in_one_event_loop_share_one_client(flyte2_conn):
    # Naps long enough that all three waits are still open when counted, on a loaded machine too.
    names = [start(f"trig-shared-{i}", "provider.nap", {"seconds": 5.0}) for i in range(3)]
    pool = Flyte2ClientPool.current()
    seen: list[int] = []

    async def count() -> None:
        await asyncio.sleep(0.8)
        seen.append(pool.open_clients)

    events, _ = await asyncio.gather(
        asyncio.gather(*(first_event(Flyte2RunTrigger(flyte2_conn, PROJECT, DOMAIN, n)) for n in names)), count()
    )

    assert seen == [1]
    assert {e.state.phase for e in events if e.state} == {"SUCCEEDED"}
    assert pool.open_clients == 0  # the last wait closed it


@pytest.mark.asyncio
async def test_on_kill_aborts_the_run_with_the_kill_cause(flyte2_conn, flyte2_service):
    name = start("trig-killed", "provider.nap", {"seconds": 30.0})
    flyte2_service.wait_for_phase(name, {"RUNNING"}, timeout=30)

    await Flyte2RunTrigger(flyte2_conn, PROJECT, DOMAIN, name, kill_cause="Stopped by Airflow: marked failed").on_kill()

    ended = flyte2_service.wait_for_phase(name, {"ABORTED"}, timeout=30)
    assert ended.abort_reason == "Stopped by Airflow: marked failed"


@pytest.mark.asyncio
async def test_on_kill_without_a_kill_cause_leaves_the_run_alone(flyte2_conn, flyte2_service):
    name = start("trig-left-alone", "provider.nap", {"seconds": 1.0})

    await Flyte2RunTrigger(flyte2_conn, PROJECT, DOMAIN, name).on_kill()

    assert flyte2_service.wait_for_phase(name, timeout=30).phase == "SUCCEEDED"


def test_a_malformed_event_never_reads_as_success():
    with pytest.raises(FlyteProviderError, match="Malformed Flyte 2 trigger event"):
        RunEvent.parse({"status": "terminal", "state": None})


def test_an_event_about_another_run_is_refused():
    state = {"project": PROJECT, "domain": DOMAIN, "name": "other", "phase": "SUCCEEDED"}
    event = {"status": "terminal", "state": state, "message": "", "deadline": None}

    with pytest.raises(FlyteProviderError, match="is about flytesnacks/development/other, but this task waits for"):
        RunEvent.parse(event, [PROJECT, DOMAIN, "mine"])


def test_an_event_carries_a_run_state_with_its_org():
    state = {"project": PROJECT, "domain": DOMAIN, "name": "mine", "phase": "RECOVERED", "org": "acme"}

    parsed = RunEvent.parse({"status": "terminal", "state": state, "message": "", "deadline": None})

    assert isinstance(parsed.state, RunState) and parsed.state.org == "acme" and parsed.state.is_terminal
