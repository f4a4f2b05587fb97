"""The event feed's cursor and payload: what is stored between triggerer runs, and what DAGs get."""

from __future__ import annotations

import datetime

import pytest

from airflow_provider_flyte.events.cursor import Cursor
from airflow_provider_flyte.events.payload import FlyteExecutionEvent, small_outputs
from airflow_provider_flyte.phases import ExecutionState

T0 = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.timezone.utc)
LOOKBACK = datetime.timedelta(minutes=10)


def at(minutes: float) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


def test_listing_starts_a_lookback_before_the_newest_change_seen():
    cursor = Cursor.starting(T0).examined(at(3), LOOKBACK)
    assert cursor.list_from(LOOKBACK) == at(-7)


def test_an_emitted_execution_is_remembered_while_a_listing_can_return_it():
    cursor = Cursor.starting(T0).examined(at(1), LOOKBACK, emitted="a")
    assert cursor.examined(at(10), LOOKBACK).has_emitted("a")
    assert not cursor.examined(at(11.5), LOOKBACK).has_emitted("a")


def test_a_late_change_older_than_the_watermark_does_not_move_it_back():
    cursor = Cursor.starting(T0).examined(at(5), LOOKBACK).examined(at(2), LOOKBACK, emitted="late")
    assert cursor.after == at(5) and cursor.has_emitted("late")


def test_a_stored_cursor_reads_back_the_same():
    cursor = Cursor.starting(T0).examined(at(1), LOOKBACK, emitted="a").examined(at(2), LOOKBACK, emitted="b")
    assert Cursor.from_json(cursor.to_json()) == cursor


@pytest.mark.parametrize(
    ("stored", "complaint"),
    [
        ({"after": T0.isoformat()}, "version 1"),
        ({"version": 1, "after": "yesterday"}, "Invalid isoformat"),
        ({"version": 1, "after": "2026-11-24T12:00:00"}, "time zone"),
        ({"version": 1, "after": T0.isoformat(), "emitted": ["a"]}, "'emitted' must be a mapping"),
    ],
)
def test_a_malformed_stored_cursor_is_refused_not_guessed(stored, complaint):
    with pytest.raises(ValueError, match=complaint):
        Cursor.from_json(stored)


def event() -> FlyteExecutionEvent:
    state = ExecutionState("p", "d", "n", "SUCCEEDED", url="http://console/n")
    entity = {"kind": "launch_plan", "project": "p", "domain": "d", "name": "lp", "version": "v1"}
    return FlyteExecutionEvent(state, entity, T0.isoformat(), {"o0": 1}, ("big",))


def test_an_event_reads_back_from_an_asset_events_extra():
    extra = {"from_trigger": True, "payload": event().payload()}
    assert FlyteExecutionEvent.from_payload(extra) == event()


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"version": 2}, "expected version 1"),
        ({"entity": {"kind": "launch_plan"}}, "'entity' must map"),
        ({"outputs": [1]}, "'outputs' must be a mapping"),
        ({"execution": {"project": "p"}}, "field 'domain' must be a non-empty string"),
    ],
)
def test_a_malformed_event_is_refused_with_the_field_named(change, complaint):
    with pytest.raises(ValueError, match=complaint):
        FlyteExecutionEvent.from_payload({**event().payload(), **change})


def test_outputs_over_the_limit_are_named_instead_of_sent():
    kept, omitted = small_outputs({"small": 1, "large": "x" * 100}, max_bytes=20)
    assert kept == {"small": 1} and omitted == ("large",)
