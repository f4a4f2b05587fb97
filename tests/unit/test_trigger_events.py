"""Every trigger event is validated before the operator or sensor acts on it."""

from __future__ import annotations

import pytest

from airflow_provider_flyte.exceptions import FlyteProviderError
from airflow_provider_flyte.phases import ExecutionState
from airflow_provider_flyte.triggers.flyte import FlyteTriggerEvent

DONE = ExecutionState("p", "d", "n", "SUCCEEDED")
RUNNING = ExecutionState("p", "d", "n", "RUNNING")


def test_a_terminal_event_round_trips():
    event = FlyteTriggerEvent("terminal", DONE)
    assert FlyteTriggerEvent.parse(event.payload()) == event


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "SUCCEEDED",
        {"status": "terminal"},
        {"status": "success", "state": DONE.to_dict(), "message": ""},
        {"status": "terminal", "state": RUNNING.to_dict(), "message": ""},
        {"status": "terminal", "state": None, "message": ""},
        {"status": "timeout", "state": None, "message": ""},
        {"status": "terminal", "state": {**DONE.to_dict(), "phase": "DONE"}, "message": ""},
        {"status": "terminal", "state": DONE.to_dict(), "message": "", "extra": 1},
        {"status": "terminal", "state": DONE.to_dict(), "message": "", "deadline": "soon"},
    ],
)
def test_malformed_events_are_refused(payload):
    with pytest.raises(FlyteProviderError):
        FlyteTriggerEvent.parse(payload)


def test_an_event_about_another_execution_is_refused():
    with pytest.raises(FlyteProviderError, match="this task waits for p/d/other"):
        FlyteTriggerEvent.parse(FlyteTriggerEvent("terminal", DONE).payload(), ["p", "d", "other"])


def test_an_event_about_the_expected_execution_is_accepted():
    assert FlyteTriggerEvent.parse(FlyteTriggerEvent("terminal", DONE).payload(), ["p", "d", "n"]).state == DONE


def test_an_event_carries_the_waits_deadline():
    event = FlyteTriggerEvent("timeout", RUNNING, "the wait's deadline passed", deadline=1795000000.5)
    assert FlyteTriggerEvent.parse(event.payload()).deadline == 1795000000.5


def test_an_event_written_by_1_0_0_dev0_still_parses():
    old = {"status": "terminal", "state": DONE.to_dict(), "message": ""}
    assert FlyteTriggerEvent.parse(old) == FlyteTriggerEvent("terminal", DONE)
