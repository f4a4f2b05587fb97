"""Gate nodes run node by node, and flyteadmin's SignalService answers for them; flytekit's own
FlyteRemote approves, rejects and sets inputs unchanged."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from flyteidl.admin import signal_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2, types_pb2
from flyteidl.service.signal_pb2_grpc import SignalServiceStub
from flytekit.configuration import Config, PlatformConfig
from flytekit.remote import FlyteRemote

from airflow_provider_flyte.local_admin import LocalFlyteAdmin
from tests.local_admin.conftest import DOMAIN, PROJECT, unique_name

GATES = Path(__file__).resolve().parents[1] / "workflows" / "gates.py"
PHASES = core_execution_pb2.WorkflowExecution
NODE = core_execution_pb2.NodeExecution


@pytest.fixture(scope="module")
def admin() -> Iterator[LocalFlyteAdmin]:
    with LocalFlyteAdmin(workflows=[GATES], project=PROJECT, domain=DOMAIN, port=0) as served:
        yield served


@pytest.fixture(scope="module")
def remote(admin) -> FlyteRemote:
    return FlyteRemote(
        Config(platform=PlatformConfig(endpoint=admin.endpoint, insecure=True)),
        default_project=PROJECT,
        default_domain=DOMAIN,
    )


@pytest.fixture(scope="module")
def signals(admin) -> Iterator[SignalServiceStub]:
    with grpc.insecure_channel(admin.endpoint) as channel:
        yield SignalServiceStub(channel)


def start(remote: FlyteRemote, workflow: str, **inputs) -> str:
    name = unique_name()
    remote.execute(remote.fetch_launch_plan(name=f"gates.{workflow}"), inputs=inputs, execution_name=name)
    return name


def wait_for_signal(remote: FlyteRemote, name: str, timeout: float = 60.0) -> list:
    deadline = time.monotonic() + timeout
    while not (found := remote.list_signals(name)):
        assert time.monotonic() < deadline, f"{name} never paused on a gate"
        time.sleep(0.1)
    return found


def finished(admin, name: str):
    return admin.wait_for_phase(name, {PHASES.SUCCEEDED, PHASES.FAILED, PHASES.ABORTED, PHASES.TIMED_OUT}, timeout=60)


def outputs(remote: FlyteRemote, name: str) -> dict:
    return remote.sync_execution(remote.fetch_execution(name=name)).outputs


def test_an_execution_waits_on_its_gate_node_and_later_nodes_do_not_start(admin, remote):
    name = start(remote, "approval_wf", x=4)
    (signal,) = wait_for_signal(remote, name)

    assert signal.id.signal_id == "deploy-model" and signal.type.simple == types_pb2.BOOLEAN
    assert not signal.HasField("value")
    nodes = {n.id.node_id: n.closure.phase for n in remote.client.list_node_executions(remote.fetch_execution(name=name).id)[0]}
    assert nodes == {"n0": NODE.SUCCEEDED, "n1": NODE.RUNNING}
    assert admin.get_execution(name).closure.phase == PHASES.RUNNING
    remote.terminate(remote.fetch_execution(name=name), cause="test over")


def test_flyteremote_approve_lets_the_execution_go_on(admin, remote):
    name = start(remote, "approval_wf", x=4)
    wait_for_signal(remote, name)

    remote.approve("deploy-model", name)

    assert finished(admin, name).closure.phase == PHASES.SUCCEEDED
    assert outputs(remote, name)["o0"] == "deployed 8"


def test_flyteremote_reject_fails_the_execution_as_flyte_does(admin, remote):
    name = start(remote, "approval_wf", x=4)
    wait_for_signal(remote, name)

    remote.reject("deploy-model", name)

    closure = finished(admin, name).closure
    assert closure.phase == PHASES.FAILED
    assert closure.error.code == "ReceivedRejectSignal"
    assert closure.error.message == "received a reject signal to disapprove the node input values"


def test_flyteremote_set_input_gives_the_gate_its_typed_output(admin, remote):
    name = start(remote, "input_wf", x=3)
    (signal,) = wait_for_signal(remote, name)
    assert signal.id.signal_id == "factor" and signal.type.simple == types_pb2.INTEGER

    remote.set_input("factor", name, 5, python_type=int)

    assert finished(admin, name).closure.phase == PHASES.SUCCEEDED
    assert outputs(remote, name)["o0"] == 30


def test_a_value_of_the_wrong_type_is_refused(remote, signals):
    name = start(remote, "input_wf", x=3)
    wait_for_signal(remote, name)
    wrong = literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value="five")))

    with pytest.raises(grpc.RpcError) as refused:
        signals.SetSignal(signal_pb2.SignalSetRequest(id=signal_id(name, "factor"), value=wrong))

    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "is not castable to existing signal type" in refused.value.details()
    remote.terminate(remote.fetch_execution(name=name), cause="test over")


def test_an_unknown_signal_is_refused(remote, signals):
    name = start(remote, "input_wf", x=3)
    wait_for_signal(remote, name)
    five = literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=5)))

    with pytest.raises(grpc.RpcError) as refused:
        signals.SetSignal(signal_pb2.SignalSetRequest(id=signal_id(name, "no-such-gate"), value=five))

    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "failed to validate that signal" in refused.value.details()
    remote.terminate(remote.fetch_execution(name=name), cause="test over")


def test_setting_a_signal_again_is_accepted_as_flyteadmin_does(admin, remote):
    name = start(remote, "approval_wf", x=1)
    wait_for_signal(remote, name)

    remote.approve("deploy-model", name)
    remote.approve("deploy-model", name)

    assert finished(admin, name).closure.phase == PHASES.SUCCEEDED


def test_a_gate_left_unanswered_past_its_timeout_fails_the_execution(admin, remote):
    name = start(remote, "hasty_approval_wf", x=1)

    closure = finished(admin, name).closure

    assert closure.phase == PHASES.FAILED
    assert closure.error.code == "RetriesExhausted|TimeoutExpired"
    assert closure.error.message.endswith("task execution timeout [2s] expired")


def test_a_sleep_gate_pauses_then_the_execution_goes_on(admin, remote):
    started = time.monotonic()
    name = start(remote, "nap_wf", x=2)

    assert finished(admin, name).closure.phase == PHASES.SUCCEEDED
    assert time.monotonic() - started >= 1.0


def test_signals_of_an_unknown_execution_are_not_found(signals):
    request = signal_pb2.SignalListRequest(
        workflow_execution_id=identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name="nope"),
        limit=10,
    )
    with pytest.raises(grpc.RpcError) as refused:
        signals.ListSignals(request)
    assert refused.value.code() is grpc.StatusCode.NOT_FOUND


def signal_id(execution: str, signal: str) -> identifier_pb2.SignalIdentifier:
    return identifier_pb2.SignalIdentifier(
        signal_id=signal,
        execution_id=identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=execution),
    )


def test_the_gate_timeout_default_is_flytekits():
    from flytekit.core.gate import DEFAULT_TIMEOUT

    assert DEFAULT_TIMEOUT == timedelta(hours=1)
