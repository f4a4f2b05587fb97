"""The Flyte 2 phase table: every ActionPhase has an outcome, and the two that needed a decision."""

from __future__ import annotations

import pytest
from flyteidl2.common import phase_pb2

from airflow_provider_flyte.exceptions import (
    FlyteExecutionAborted,
    FlyteExecutionFailed,
    FlyteExecutionTimedOut,
    raise_for_outcome,
)
from airflow_provider_flyte.flyte2.phases import PHASE_OUTCOMES, RunState, phase_name, run_outcome
from airflow_provider_flyte.phases import Outcome


def state(phase: str, **kwargs) -> RunState:
    return RunState("flytesnacks", "development", "r", phase, **kwargs)


def test_every_action_phase_of_flyteidl2_is_in_the_table():
    names = {phase_name(value) for value in phase_pb2.ActionPhase.values()}

    assert names == set(PHASE_OUTCOMES)


def test_a_paused_run_is_still_waited_for():
    assert run_outcome("PAUSED") is Outcome.WAITING


def test_a_recovered_run_succeeded_with_the_outputs_it_recovered():
    assert run_outcome("RECOVERED") is Outcome.SUCCEEDED


def test_an_unknown_phase_is_an_error_never_still_running():
    with pytest.raises(ValueError, match="Unknown Flyte 2 action phase 'DREAMING'"):
        run_outcome("DREAMING")


@pytest.mark.parametrize(
    "phase,exception", [("FAILED", FlyteExecutionFailed), ("TIMED_OUT", FlyteExecutionTimedOut), ("ABORTED", FlyteExecutionAborted)]
)
def test_each_bad_ending_raises_its_own_exception(phase, exception):
    with pytest.raises(exception, match=f"Flyte 2 run flytesnacks/development/r is {phase}"):
        raise_for_outcome(state(phase))


def test_the_abort_cause_is_in_the_failure_message():
    with pytest.raises(FlyteExecutionAborted, match="aborted by ops@example.com: wrong data"):
        raise_for_outcome(state("ABORTED", abort_cause="wrong data", abort_principal="ops@example.com"))


def test_a_state_survives_a_trigger_event_round_trip():
    original = state("PAUSED", org="acme", labels={"airflow-dag-id": "d"})

    assert RunState.from_dict(original.to_dict()) == original


def test_a_state_with_an_unknown_phase_is_refused_from_an_event():
    with pytest.raises(ValueError, match="Unknown Flyte 2 action phase"):
        RunState.from_dict({**state("RUNNING").to_dict(), "phase": "DREAMING"})


def test_a_flyte_1_only_phase_is_refused_by_the_flyte_2_table_from_an_event():
    with pytest.raises(ValueError, match="Unknown Flyte 2 action phase 'SUCCEEDING'"):
        RunState.from_dict({**state("RUNNING").to_dict(), "phase": "SUCCEEDING"})


def test_a_flyte_2_only_phase_is_refused_by_the_flyte_1_table_from_an_event():
    from airflow_provider_flyte.phases import ExecutionState

    with pytest.raises(ValueError, match="Unknown Flyte execution phase 'RECOVERED'"):
        ExecutionState.from_dict({"project": "p", "domain": "d", "name": "n", "phase": "RECOVERED"})
