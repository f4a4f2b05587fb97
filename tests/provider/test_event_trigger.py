"""FlyteExecutionEventTrigger and its feed, over real gRPC to the local admin.

Each test marks its executions with a label of its own and watches only that label, because the
session's admin also runs every other test's executions of the same launch plans.
"""

from __future__ import annotations

import asyncio
import datetime
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from airflow.triggers.shared_stream import AdvanceItem, AdvanceOutcome

from airflow_provider_flyte.events.cursor import Cursor
from airflow_provider_flyte.events.payload import FlyteExecutionEvent
from airflow_provider_flyte.events.producer import CursorProducer, EventNotDelivered
from airflow_provider_flyte.events.stream import CURSOR_KEY, STORES, MemoryStore
from airflow_provider_flyte.triggers.events import FlyteExecutionEventTrigger

P, D = "flytesnacks", "development"


def launch(launch_plan: str, inputs: dict[str, Any], labels: dict[str, str]) -> str:
    from airflow_provider_flyte.hooks.admin_messages import LaunchOptions
    from airflow_provider_flyte.hooks.flyte import FlyteHook

    hook = FlyteHook("flyte_conn")
    name = "ev-" + secrets.token_hex(6)
    hook.launch(hook.resolve_launch_plan(P, D, launch_plan), name, inputs, LaunchOptions(labels=labels))
    return name


def wait_ended(name: str, timeout: float = 60.0) -> None:
    import time

    from airflow_provider_flyte.hooks.flyte import FlyteHook

    hook, deadline = FlyteHook("flyte_conn"), time.monotonic() + timeout
    while not hook.get_execution(P, D, name).is_terminal:
        assert time.monotonic() < deadline, f"{name} did not end"
        time.sleep(0.2)


def watcher(mark: str, **kwargs: Any) -> FlyteExecutionEventTrigger:
    since = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)).isoformat()
    return FlyteExecutionEventTrigger(
        P, D, labels={"test": mark}, conn_id="flyte_conn", poll_interval=0.2, since=since, event_spacing=0, **kwargs
    )


async def collect(events: AsyncIterator[Any], count: int, timeout: float = 60.0) -> list[FlyteExecutionEvent]:
    found: list[FlyteExecutionEvent] = []

    async def take() -> None:
        async for event in events:
            found.append(FlyteExecutionEvent.from_payload(event.payload))
            if len(found) == count:
                return

    await asyncio.wait_for(take(), timeout)
    return found


async def no_more(events: AsyncIterator[Any], seconds: float = 1.5) -> list[Any]:
    extra: list[Any] = []

    async def take() -> None:
        async for event in events:
            extra.append(event.payload)

    try:
        await asyncio.wait_for(take(), seconds)
    except asyncio.TimeoutError:
        pass
    return extra


def test_kwargs_round_trip_and_say_nothing_secret():
    trigger = FlyteExecutionEventTrigger(P, D, launch_plan="simple.double_wf", labels={"team": "ml"}, conn_id="c")
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_flyte.triggers.events.FlyteExecutionEventTrigger"
    assert FlyteExecutionEventTrigger(**kwargs).serialize() == (path, kwargs)
    assert set(kwargs) == {
        "project", "domain", "launch_plan", "labels", "phases", "include_airflow_launched", "conn_id",
        "poll_interval", "since", "lookback", "max_output_bytes", "event_spacing",
    }


def test_a_phase_that_is_not_terminal_is_refused_in_the_dag_file():
    with pytest.raises(ValueError, match=r"'phases' must be terminal phases .* got \['RUNNING'\]"):
        FlyteExecutionEventTrigger(P, D, phases=["SUCCEEDED", "RUNNING"])


def test_the_filter_flyteadmin_gets_names_phases_launch_plan_and_time():
    trigger = FlyteExecutionEventTrigger(P, D, launch_plan="simple.double_wf", phases=["FAILED", "TIMED_OUT"])
    at = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert trigger.query.filters(at) == (
        "value_in(phase,FAILED;TIMED_OUT)+eq(launch_plan.name,simple.double_wf)+gte(execution_updated_at,2026-01-02T03:04:05Z)"
    )


@pytest.mark.asyncio
async def test_one_event_per_succeeded_execution_with_its_outputs(flyte_conn, flyte_admin):
    mark = secrets.token_hex(4)
    names = [launch("simple.double_wf", {"x": x}, {"test": mark}) for x in (1, 2, 3)]
    trigger = watcher(mark, launch_plan="simple.double_wf")

    events = await collect(trigger.run(), 3)

    assert sorted(e.execution.name for e in events) == sorted(names)
    assert sorted(e.outputs["o0"] for e in events) == [2, 4, 6]
    event = events[0]
    assert event.execution.phase == "SUCCEEDED" and event.execution.url.endswith(f"/executions/{event.execution.name}")
    assert event.entity["kind"] == "launch_plan" and event.entity["name"] == "simple.double_wf"
    assert event.entity["version"]


@pytest.mark.asyncio
async def test_an_execution_is_never_sent_twice_by_later_polls(flyte_conn):
    mark = secrets.token_hex(4)
    launch("simple.double_wf", {"x": 5}, {"test": mark})
    runs = watcher(mark).run()

    await collect(runs, 1)

    assert await no_more(runs) == []


@pytest.mark.asyncio
async def test_executions_of_other_phases_and_labels_make_no_event(flyte_conn):
    mark = secrets.token_hex(4)
    failed = launch("simple.failing_wf", {"message": "no event for me"}, {"test": mark})
    launch("simple.double_wf", {"x": 1}, {"test": "someone-else"})
    wait_ended(failed)
    runs = watcher(mark).run()

    assert await no_more(runs, 2.0) == []


@pytest.mark.asyncio
async def test_a_failed_execution_event_carries_the_whole_flyte_error(flyte_conn):
    mark = secrets.token_hex(4)
    message = "boom " + "x" * 300  # the list trims errors to 100 bytes
    launch("simple.failing_wf", {"message": message}, {"test": mark})

    (event,) = await collect(watcher(mark, phases=["FAILED"]).run(), 1)

    assert event.execution.phase == "FAILED" and message in event.execution.error_message
    assert event.outputs == {}


@pytest.mark.asyncio
async def test_executions_airflow_launched_are_left_out_unless_asked_for(flyte_conn):
    mark = secrets.token_hex(4)
    ours = launch("simple.double_wf", {"x": 2}, {"test": mark, "airflow-dag-id": "etl"})
    theirs = launch("simple.double_wf", {"x": 3}, {"test": mark})

    (only,) = await collect(watcher(mark).run(), 1)
    both = await collect(watcher(mark, include_airflow_launched=True).run(), 2)

    assert only.execution.name == theirs
    assert sorted(e.execution.name for e in both) == sorted([ours, theirs])


@pytest.mark.asyncio
async def test_outputs_larger_than_the_limit_are_named_not_sent(flyte_conn):
    mark = secrets.token_hex(4)
    launch("simple.summarize_wf", {"values": [1, 2, 3], "tags": {"k": "v"}}, {"test": mark})  # o0 is ~45 bytes of JSON

    (event,) = await collect(watcher(mark, max_output_bytes=16).run(), 1)

    assert event.outputs == {} and event.outputs_omitted == ("o0",)


# -- Airflow 3.3's acknowledged stream: the cursor is stored only for what Airflow confirmed --


async def next_event(stream: AsyncIterator[tuple[Any, Cursor]]) -> tuple[dict[str, Any], Cursor]:
    """The next execution's payload and cursor, past the ticks that end each empty poll."""

    async def take() -> tuple[dict[str, Any], Cursor]:
        async for payload, cursor in stream:
            if payload is not None:
                return payload, cursor
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(take(), 60)


def advance_item(cursor: Cursor, acked: int = 1, failed: int = 0) -> AdvanceItem:
    return AdvanceItem(cursor, AdvanceOutcome(acked=acked, failed=failed))


@pytest.mark.asyncio
async def test_the_producer_resumes_from_the_stored_cursor_and_stores_what_airflow_confirmed(flyte_conn):
    mark = secrets.token_hex(4)
    first = launch("simple.double_wf", {"x": 1}, {"test": mark})
    trigger = watcher(mark)
    key, store = trigger.shared_stream_key(), MemoryStore()
    STORES.offer(key, store)
    producer = FlyteExecutionEventTrigger.create_shared_stream_producer(trigger.serialize()[1])
    assert isinstance(producer, CursorProducer)

    stream = producer.open_stream()
    payload, cursor = await next_event(stream)
    assert payload["execution"]["name"] == first
    started = Cursor.from_json(await store.aget(CURSOR_KEY))
    assert not started.has_emitted(first), "nothing is stored before Airflow confirms it"

    await producer.advance([advance_item(cursor)])
    assert Cursor.from_json(await store.aget(CURSOR_KEY)).has_emitted(first)
    await stream.aclose()

    second = launch("simple.double_wf", {"x": 2}, {"test": mark})
    again = FlyteExecutionEventTrigger.create_shared_stream_producer(trigger.serialize()[1]).open_stream()
    payload, _ = await next_event(again)
    assert payload["execution"]["name"] == second, "a new producer resumes after what was confirmed"
    await again.aclose()
    STORES.withdraw(key, store)


@pytest.mark.asyncio
async def test_an_event_airflow_did_not_confirm_stops_the_cursor_before_it():
    stored = Cursor.starting(datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    at = stored.after + datetime.timedelta(seconds=1)
    one = stored.examined(at, datetime.timedelta(minutes=10), emitted="one")
    two = one.examined(at, datetime.timedelta(minutes=10), emitted="two")
    trigger = watcher("unused")
    store = MemoryStore()
    await store.aset(CURSOR_KEY, stored.to_json())
    STORES.offer(trigger.shared_stream_key(), store)
    producer = FlyteExecutionEventTrigger.create_shared_stream_producer(trigger.serialize()[1])
    producer._store, producer._stored = store, stored

    with pytest.raises(EventNotDelivered):
        await producer.advance([advance_item(one), advance_item(two, acked=0, failed=1)])

    kept = Cursor.from_json(await store.aget(CURSOR_KEY))
    assert kept.has_emitted("one") and not kept.has_emitted("two")
    STORES.withdraw(trigger.shared_stream_key(), store)
