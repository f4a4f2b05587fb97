"""Flyte gate nodes from Airflow: the hook's pending signals, FlyteSignalSensor and
FlyteSignalOperator through dag.test(), against the local admin's real gate nodes."""

from __future__ import annotations

import time

import pytest
from airflow.sdk import DAG

from airflow_provider_flyte.exceptions import FlyteInputError
from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.operators.flyte import FlyteOperator
from airflow_provider_flyte.operators.signals import FlyteSignalOperator
from airflow_provider_flyte.sensors.flyte import FlyteSensor
from airflow_provider_flyte.sensors.signals import FlyteSignalSensor
from tests.airflow_runs import run_dag, task_instance, xcom
from tests.provider.dags import START, launch_directly

P, D = "flytesnacks", "development"


def waiting_on_its_gate(name: str, timeout: float = 60.0) -> list:
    hook, deadline = FlyteHook("flyte_conn"), time.monotonic() + timeout
    while not (pending := hook.pending_signals(P, D, name)):
        assert time.monotonic() < deadline, f"{name} never paused on a gate"
        time.sleep(0.2)
    return pending


def gate_dag(dag_id: str, value: object, workflow: str = "gates.approval_wf", deferrable: bool = False) -> DAG:
    """Launch without waiting, wait for the gate, answer it, wait for the execution."""
    with DAG(dag_id=dag_id, schedule=None, start_date=START) as dag:
        launch = FlyteOperator(
            task_id="launch", flyte_conn_id="flyte_conn", project=P, domain=D, launchplan_name=workflow,
            inputs={"x": 4}, wait_for_termination=False,
        )
        gate = FlyteSignalSensor(
            task_id="gate", flyte_conn_id="flyte_conn", project=P, domain=D, execution_name=launch.output,
            poke_interval=0.5, timeout=60, deferrable=deferrable,
        )
        answer = FlyteSignalOperator(
            task_id="answer", flyte_conn_id="flyte_conn", project=P, domain=D, execution_name=launch.output,
            signal_id="{{ ti.xcom_pull(task_ids='gate')['signal_id'] }}", value=value,
        )
        done = FlyteSensor(
            task_id="done", flyte_conn_id="flyte_conn", project=P, domain=D, execution_name=launch.output,
            push_outputs=True, poke_interval=0.5,
        )
        launch >> gate >> answer >> done
    return dag


def test_the_hook_names_the_pending_approval_its_type_and_its_gate_node(flyte_conn):
    name = launch_directly("gate-hook", "gates.approval_wf", {"x": 1})

    (pending,) = waiting_on_its_gate(name)

    assert (pending.signal_id, pending.kind, pending.type, pending.node_id) == ("deploy-model", "approval", "boolean", "n1")
    assert pending.describe() == "waiting for approval `deploy-model` on node n1"
    FlyteHook("flyte_conn").terminate(P, D, name, "test over")


def test_approving_from_airflow_lets_the_execution_finish(airflow_db, flyte_conn):
    run = run_dag(gate_dag("gate_approved", value="{{ ti.xcom_pull(task_ids='gate')['kind'] == 'approval' }}"))

    assert run.state == "success"
    assert xcom(run, "gate")["signal_id"] == "deploy-model"
    assert xcom(run, "done", key="outputs") == {"o0": "deployed 8"}


def test_a_deferred_sensor_waits_for_the_gate_in_the_triggerer(airflow_db, flyte_conn):
    run = run_dag(gate_dag("gate_deferred", value=True, deferrable=True))

    assert run.state == "success"
    assert xcom(run, "gate")["node_id"] == "n1"


def test_signal_trigger_events_are_validated():
    from airflow_provider_flyte.exceptions import FlyteProviderError
    from airflow_provider_flyte.triggers.signals import SignalTriggerEvent

    good = SignalTriggerEvent("gate", signal_id="deploy-model").payload()
    assert SignalTriggerEvent.parse(good).signal_id == "deploy-model"
    for bad in ({**good, "status": "done"}, {**good, "signal_id": ""}, {**good, "extra": 1}, {**good, "status": "ended"}):
        with pytest.raises(FlyteProviderError):
            SignalTriggerEvent.parse(bad)


def test_rejecting_from_airflow_fails_the_execution_with_flytes_cause(airflow_db, flyte_conn, capfd):
    run = run_dag(gate_dag("gate_rejected", value="{{ ti.xcom_pull(task_ids='gate')['kind'] != 'approval' }}"))

    assert run.state == "failed"
    assert task_instance(run, "answer").state == "success" and task_instance(run, "done").state == "failed"
    assert "received a reject signal to disapprove the node input values" in "".join(capfd.readouterr())


def test_an_input_gate_gets_a_typed_value_rendered_from_a_template(airflow_db, flyte_conn):
    run = run_dag(gate_dag("gate_input", value="{{ ti.xcom_pull(task_ids='gate')['signal_id'] | length - 1 }}", workflow="gates.input_wf"))

    assert run.state == "success"
    assert xcom(run, "gate")["kind"] == "input" and xcom(run, "gate")["type"] == "integer"
    assert xcom(run, "done", key="outputs") == {"o0": 40}


def test_a_value_of_the_wrong_type_is_refused_and_nothing_is_set(flyte_conn):
    name = launch_directly("gate-wrong-type", "gates.input_wf", {"x": 1})
    waiting_on_its_gate(name)
    hook = FlyteHook("flyte_conn")

    with pytest.raises(FlyteInputError, match=r"Signal 'factor' of Flyte execution .* expects Flyte type integer, got 'five'"):
        hook.set_signal(P, D, name, "factor", "five")

    assert [p.signal_id for p in hook.pending_signals(P, D, name)] == ["factor"]
    hook.terminate(P, D, name, "test over")


def test_a_signal_the_execution_does_not_wait_for_is_refused_by_name(flyte_conn):
    name = launch_directly("gate-unknown", "gates.approval_wf", {"x": 1})
    waiting_on_its_gate(name)

    with pytest.raises(FlyteInputError, match=r"has no signal 'ship-it' .* its signals: \['deploy-model'\]"):
        FlyteHook("flyte_conn").set_signal(P, D, name, "ship-it", True)
    FlyteHook("flyte_conn").terminate(P, D, name, "test over")


def test_answering_twice_with_the_same_value_is_a_no_op_and_another_value_is_refused(flyte_conn):
    name = launch_directly("gate-twice", "gates.approval_wf", {"x": 1})
    waiting_on_its_gate(name)
    hook = FlyteHook("flyte_conn")
    hook.set_signal(P, D, name, "deploy-model", True)

    hook.set_signal(P, D, name, "deploy-model", True)
    with pytest.raises(FlyteInputError, match="was already answered with True; refusing to change it to False"):
        hook.set_signal(P, D, name, "deploy-model", False)


def test_the_sensor_fails_when_the_execution_ends_without_a_gate(airflow_db, flyte_conn, capfd):
    name = launch_directly("gate-none", "simple.double_wf", {"x": 1})
    with DAG(dag_id="gate_never", schedule=None, start_date=START) as dag:
        FlyteSignalSensor(
            task_id="gate", flyte_conn_id="flyte_conn", project=P, domain=D, execution_name=name, poke_interval=0.5,
            timeout=60,
        )

    run = run_dag(dag)

    assert run.state == "failed"
    assert "ended before waiting for a signal" in "".join(capfd.readouterr())


def approve_when_asked(dag_id: str) -> None:
    """Approve the gate of the execution ``dag_id`` launched, a few operator polls after it paused."""
    hook, deadline = FlyteHook("flyte_conn"), time.monotonic() + 60
    while time.monotonic() < deadline:
        for execution in hook.client.call("ListExecutions", _list_request()).executions:
            if execution.spec.labels.values.get("airflow-dag-id") == dag_id and hook.pending_signals(P, D, execution.id.name):
                time.sleep(3)  # more polls of the waiting task: it must not say it again
                hook.set_signal(P, D, execution.id.name, "deploy-model", True)
                return
        time.sleep(0.3)


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_waiting_operator_says_once_that_its_execution_waits_for_approval(airflow_db, flyte_conn, capfd, deferrable):
    import threading

    dag_id = f"gate_operator_{'deferred' if deferrable else 'blocking'}"
    with DAG(dag_id=dag_id, schedule=None, start_date=START) as dag:
        FlyteOperator(
            task_id="train", flyte_conn_id="flyte_conn", project=P, domain=D, launchplan_name="gates.approval_wf",
            inputs={"x": 3}, poll_interval=0.5, deferrable=deferrable,
        )
    approver = threading.Thread(target=approve_when_asked, args=(dag_id,), daemon=True)
    approver.start()
    run = run_dag(dag)
    approver.join(5)

    assert run.state == "success" and xcom(run, "train", key="outputs") == {"o0": "deployed 6"}
    said = "".join(capfd.readouterr())
    assert said.count("waiting for approval `deploy-model` on node n1; answer it in Flyte or from Airflow") == 1


def _list_request():
    from flyteidl.admin import common_pb2

    newest_first = common_pb2.Sort(key="created_at", direction=common_pb2.Sort.DESCENDING)
    return common_pb2.ResourceListRequest(
        id=common_pb2.NamedEntityIdentifier(project=P, domain=D), limit=20, sort_by=newest_first
    )
