"""The phase table and the exceptions each terminal phase raises."""

from __future__ import annotations

import pytest

from airflow_provider_flyte.compat import AirflowFailException
from airflow_provider_flyte.exceptions import (
    FlyteExecutionAborted,
    FlyteExecutionFailed,
    FlyteExecutionTimedOut,
    raise_for_outcome,
)
from airflow_provider_flyte.phases import PHASE_OUTCOMES, ExecutionState, Outcome


def state(phase: str, **kw) -> ExecutionState:
    return ExecutionState(project="p", domain="d", name="n", phase=phase, **kw)


def test_every_flyteidl_phase_is_mapped():
    from flyteidl.core.execution_pb2 import WorkflowExecution

    assert set(PHASE_OUTCOMES) == set(WorkflowExecution.Phase.keys())


def test_terminal_phases_are_exactly_flyteadmins():
    terminal = {phase for phase in PHASE_OUTCOMES if state(phase).is_terminal}
    assert terminal == {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@pytest.mark.parametrize("phase", ["UNDEFINED", "QUEUED", "RUNNING", "SUCCEEDING", "FAILING", "ABORTING"])
def test_transitional_phases_keep_waiting(phase):
    assert state(phase).outcome is Outcome.WAITING


def test_succeeded_raises_nothing():
    raise_for_outcome(state("SUCCEEDED"))


def test_failed_raises_with_the_flyte_error_and_url():
    with pytest.raises(FlyteExecutionFailed) as err:
        raise_for_outcome(state("FAILED", error_code="USER:ValueError", error_kind="USER", error_message="boom", url="http://c/x"))
    assert "USER:ValueError" in str(err.value) and "boom" in str(err.value) and "http://c/x" in str(err.value)


def test_timed_out_raises_its_own_exception():
    with pytest.raises(FlyteExecutionTimedOut):
        raise_for_outcome(state("TIMED_OUT"))


def test_aborted_is_not_retried_and_names_who_aborted():
    with pytest.raises(FlyteExecutionAborted) as err:
        raise_for_outcome(state("ABORTED", abort_cause="stop it", abort_principal="alice"))
    assert isinstance(err.value, AirflowFailException)
    assert "alice" in str(err.value) and "stop it" in str(err.value)


def test_unknown_phase_is_an_error_not_a_wait():
    with pytest.raises(ValueError, match="Unknown Flyte execution phase"):
        _ = state("EXPLODED").outcome


def test_state_round_trips_through_a_dict():
    s = state("FAILED", error_message="x", duration_s=1.5)
    assert ExecutionState.from_dict(s.to_dict()) == s


@pytest.mark.parametrize(
    "payload",
    [None, [], {"project": "p"}, {**state("RUNNING").to_dict(), "extra": 1}, {**state("RUNNING").to_dict(), "phase": "NOPE"}],
)
def test_malformed_state_payloads_are_refused(payload):
    with pytest.raises(ValueError):
        ExecutionState.from_dict(payload)


def test_only_aborts_carrying_the_airflow_prefix_count_as_airflows():
    from airflow_provider_flyte.phases import airflow_abort_cause

    assert state("ABORTED", abort_cause=airflow_abort_cause("task d.t was killed")).aborted_by_airflow
    assert not state("ABORTED", abort_cause="stopped in the console").aborted_by_airflow
    assert not state("FAILED", abort_cause=airflow_abort_cause("x")).aborted_by_airflow
