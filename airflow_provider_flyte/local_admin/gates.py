"""Gate nodes as flytepropeller runs them (``flytepropeller/pkg/controller/nodes/gate``).

- ``sleep(duration)``: the node runs for the duration, with no outputs.
- ``approve(upstream, name, timeout)``: a boolean signal ``name``; True passes the upstream value
  on as the node's output, False fails the node (USER, ``ReceivedRejectSignal``, "received a reject
  signal to disapprove the node input values").
- ``wait_for_input(name, timeout, expected_type)``: a signal ``name`` of that type, whose value is
  the node's output ``o0``.

A gate that gets no answer within its timeout fails as propeller fails a node past its execution
deadline with no retries left. The node stays RUNNING while it waits (the worker recorded it so),
and the nodes after it have not started.
"""

from __future__ import annotations

import datetime
import time

from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import literals_pb2, types_pb2
from flytekit.core.gate import DEFAULT_TIMEOUT, Gate

from airflow_provider_flyte.local_admin.signals import SignalFiles

LOOK_EVERY = 0.2  # seconds between looks for an answer (propeller re-evaluates a gate each round)
_USER = core_execution_pb2.ExecutionError.USER


class GateFailed(Exception):
    def __init__(self, error: core_execution_pb2.ExecutionError) -> None:
        super().__init__(error.message)
        self.error = error


def rejected() -> core_execution_pb2.ExecutionError:
    return core_execution_pb2.ExecutionError(
        code="ReceivedRejectSignal", message="received a reject signal to disapprove the node input values", kind=_USER
    )


def timed_out(timeout: datetime.timedelta) -> core_execution_pb2.ExecutionError:
    from airflow_provider_flyte.local_admin.worker import go_duration

    return core_execution_pb2.ExecutionError(
        code="RetriesExhausted|TimeoutExpired",
        message=f"[1/1] currentAttempt done. Last Error: USER::task execution timeout [{go_duration(timeout)}] expired",
        kind=_USER,
    )


def run_gate(
    gate: Gate, inputs: literals_pb2.LiteralMap, timeout: datetime.timedelta | None, signals: SignalFiles
) -> literals_pb2.LiteralMap:
    if gate.sleep_duration is not None:
        time.sleep(gate.sleep_duration.total_seconds())
        return literals_pb2.LiteralMap()
    limit = timeout or DEFAULT_TIMEOUT
    if gate.input_type is None:  # approve
        answer = _wait(signals, gate.name, types_pb2.LiteralType(simple=types_pb2.BOOLEAN), limit)
        if not answer.scalar.primitive.boolean:
            raise GateFailed(rejected())
        return inputs
    answer = _wait(signals, gate.name, gate.literal_type.to_flyte_idl(), limit)
    (output,) = gate.python_interface.outputs
    return literals_pb2.LiteralMap(literals={output: answer})


def _wait(
    signals: SignalFiles, signal_id: str, literal_type: types_pb2.LiteralType, timeout: datetime.timedelta
) -> literals_pb2.Literal:
    signals.create(signal_id, literal_type)
    deadline = time.monotonic() + timeout.total_seconds()
    while (value := signals.value_of(signal_id)) is None:
        if time.monotonic() >= deadline:
            raise GateFailed(timed_out(timeout))
        time.sleep(LOOK_EVERY)
    return value
