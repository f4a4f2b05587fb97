"""Runs one execution, node by node, inside a worker process and leaves its outcome in `result.pb`.

Node records go to the work dir as they happen (see `nodes`); nodes recovered from an earlier
execution are not run, their outputs are copied.

The outcome is written as a partial `ExecutionClosure` (phase plus outputs or error) so the
admin merges it into the stored execution without a private file format. Everything the
admin needs to know about how the run ended is in that file; a worker that dies without
writing it is reported by the admin as a system failure.
"""

from __future__ import annotations

import datetime
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from flyteidl.admin import execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import literals_pb2
from flytekit.bin.entrypoint import get_traceback_str
from flytekit.core.base_task import PythonTask
from flytekit.core.context_manager import FlyteContextManager
from flytekit.core.gate import Gate
from flytekit.core.launch_plan import LaunchPlan
from flytekit.core.type_engine import TypeEngine
from flytekit.core.workflow import WorkflowBase
from flytekit.exceptions.user import FlyteUserRuntimeException
from flytekit.models.literals import LiteralMap

from airflow_provider_flyte.local_admin.gates import GateFailed, run_gate
from airflow_provider_flyte.local_admin.modules import ModuleLocation, import_module
from airflow_provider_flyte.local_admin.node_plan import (
    WORKFLOW_INPUTS,
    NodePlan,
    plan_nodes,
    resolve,
)
from airflow_provider_flyte.local_admin.nodes import (
    NODE_PHASES,
    NodeRecorder,
    read_recovered,
    write_atomically,
)
from airflow_provider_flyte.local_admin.signals import SignalFiles

INPUTS_FILE = "inputs.pb"
RESULT_FILE = "result.pb"
# A flytekit WorkflowBase or PythonTask (flytekit ships no type information).
Entity: TypeAlias = Any
_PHASES = core_execution_pb2.WorkflowExecution


@dataclass(frozen=True)
class WorkerJob:
    """One execution as a worker sees it: which entity to run, and the directory to talk through."""

    location: ModuleLocation
    entity_name: str
    work_dir: str

    def to_argv(self) -> list[str]:
        return [self.location.import_root, self.location.module_name, self.entity_name, self.work_dir]

    @classmethod
    def from_argv(cls, argv: list[str]) -> WorkerJob:
        import_root, module_name, entity_name, work_dir = argv
        return cls(ModuleLocation(import_root, module_name), entity_name, work_dir)


class _ResultWriter:
    """Writes the result once: a timeout firing on a timer thread races with normal completion."""

    def __init__(self, work_dir: str) -> None:
        self._path = Path(work_dir) / RESULT_FILE
        self._lock = threading.Lock()

    def write(self, closure: execution_pb2.ExecutionClosure) -> bool:
        with self._lock:
            if self._path.exists():
                return False
            write_atomically(self._path, closure.SerializeToString())
            return True


class NodeFailed(Exception):
    """A node ended the run; its error is also the execution's."""

    def __init__(self, error: core_execution_pb2.ExecutionError) -> None:
        super().__init__(error.message)
        self.error = error


def run_job(job: WorkerJob) -> None:
    writer = _ResultWriter(job.work_dir)
    try:
        recorder = NodeRecorder(job.work_dir)
        entity = find_entity(job.location, job.entity_name)
        _enforce_task_timeouts(entity, lambda closure: _finish_now(writer, recorder, closure))
        inputs = literals_pb2.LiteralMap.FromString((Path(job.work_dir) / INPUTS_FILE).read_bytes())
        outputs = run_nodes(
            plan_nodes(entity), inputs, recorder, read_recovered(job.work_dir), SignalFiles(job.work_dir)
        )
    except NodeFailed as failure:
        writer.write(execution_pb2.ExecutionClosure(phase=_PHASES.FAILED, error=failure.error))
        return
    except Exception as error:  # noqa: BLE001 - any failure of user code is the execution's outcome
        writer.write(execution_pb2.ExecutionClosure(phase=_PHASES.FAILED, error=user_error(error)))
        return
    writer.write(execution_pb2.ExecutionClosure(phase=_PHASES.SUCCEEDED, output_data=outputs))


def run_nodes(
    plan: NodePlan,
    inputs: literals_pb2.LiteralMap,
    recorder: NodeRecorder,
    recovered: dict[str, literals_pb2.LiteralMap],
    signals: SignalFiles,
) -> literals_pb2.LiteralMap:
    """Runs the plan's nodes in order; a recovered node's outputs are copied instead of running it."""
    outputs = {WORKFLOW_INPUTS[1]: inputs}
    for node in plan.nodes:
        node_inputs = resolve(node.bindings, outputs)
        recorder.started(node.node_id, node_inputs)
        if node.node_id in recovered:
            outputs[node.node_id] = recovered[node.node_id]
            recorder.succeeded(node.node_id, recovered[node.node_id], phase=NODE_PHASES.RECOVERED)
            continue
        try:
            if isinstance(node.entity, Gate):
                outputs[node.node_id] = run_gate(node.entity, node_inputs, node.timeout, signals)
            else:
                outputs[node.node_id] = run_entity(node.entity, node_inputs)
        except GateFailed as gate:
            recorder.failed(node.node_id, NODE_PHASES.FAILED, gate.error)
            raise NodeFailed(gate.error) from gate
        except Exception as error:
            failure = user_error(error)
            recorder.failed(node.node_id, NODE_PHASES.FAILED, failure)
            raise NodeFailed(failure) from error
        recorder.succeeded(node.node_id, outputs[node.node_id])
    return resolve(plan.outputs, outputs)


def find_entity(location: ModuleLocation, name: str) -> Entity:
    module = import_module(location)
    for value in vars(module).values():
        if isinstance(value, (WorkflowBase, PythonTask)) and value.name == name:
            return value
    raise LookupError(f"{location.module_name} defines no workflow or task named {name}")


def run_entity(entity: Entity, inputs: literals_pb2.LiteralMap) -> literals_pb2.LiteralMap:
    """Local execution with native values, converted at both ends by the entity's own interface."""
    ctx = FlyteContextManager.current_context()
    interface = entity.python_interface
    kwargs = TypeEngine.literal_map_to_kwargs(ctx, LiteralMap.from_flyte_idl(inputs), python_types=interface.inputs)
    result = entity(**kwargs)
    names = list(interface.outputs)
    values: list[Any] = [] if not names else [result] if len(names) == 1 else list(result)
    literals = {
        name: TypeEngine.to_literal(ctx, value, interface.outputs[name], entity.interface.outputs[name].type)
        for name, value in zip(names, values, strict=True)
    }
    return LiteralMap(literals=literals).to_flyte_idl()


def user_error(error: Exception) -> core_execution_pb2.ExecutionError:
    """Shaped like flytepropeller's report of a failed task attempt, built from flytekit's own error text."""
    wrapped = error if isinstance(error, FlyteUserRuntimeException) else FlyteUserRuntimeException(error)
    wrapped.__cause__ = error
    return core_execution_pb2.ExecutionError(
        code=wrapped.error_code,
        message=f"[1/1] currentAttempt done. Last Error: USER::{get_traceback_str(wrapped)}",
        kind=core_execution_pb2.ExecutionError.USER,
    )


def timeout_error(task_name: str, timeout: datetime.timedelta) -> core_execution_pb2.ExecutionError:
    return core_execution_pb2.ExecutionError(
        code="Timeout",
        message=f"task execution timeout [{go_duration(timeout)}] expired: {task_name}",
        kind=core_execution_pb2.ExecutionError.USER,
    )


def go_duration(value: datetime.timedelta) -> str:
    """Formats like Go's time.Duration, because that is how flytepropeller prints timeouts."""
    total_ms = round(value.total_seconds() * 1000)
    if total_ms < 1000:
        return f"{total_ms}ms"
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds = f"{rest / 1000:g}s"
    if hours:
        return f"{hours}h{minutes}m{seconds}"
    return f"{minutes}m{seconds}" if minutes else seconds


def _enforce_task_timeouts(entity: Entity, on_timeout: Callable[[execution_pb2.ExecutionClosure], None]) -> None:
    """Local execution ignores `timeout`; a cluster kills the pod, so the worker kills itself."""
    for task in _tasks_of(entity):
        timeout = task.metadata.timeout
        if timeout:
            _wrap_with_deadline(task, timeout, on_timeout)


def _tasks_of(entity: Any) -> list[PythonTask]:
    if isinstance(entity, PythonTask):
        return [entity]
    if isinstance(entity, LaunchPlan):
        return _tasks_of(entity.workflow)
    if isinstance(entity, WorkflowBase):
        return [task for node in entity.nodes for task in _tasks_of(node.flyte_entity)]
    return []


def _wrap_with_deadline(
    task: PythonTask,
    timeout: datetime.timedelta,
    on_timeout: Callable[[execution_pb2.ExecutionClosure], None],
) -> None:
    original = task.execute
    closure = execution_pb2.ExecutionClosure(phase=_PHASES.TIMED_OUT, error=timeout_error(task.name, timeout))

    def execute(**kwargs: Any) -> Any:
        timer = threading.Timer(timeout.total_seconds(), on_timeout, args=(closure,))
        timer.daemon = True
        timer.start()
        try:
            return original(**kwargs)
        finally:
            timer.cancel()

    task.execute = execute


def _finish_now(writer: _ResultWriter, recorder: NodeRecorder, closure: execution_pb2.ExecutionClosure) -> None:
    recorder.fail_running(NODE_PHASES.TIMED_OUT, closure.error)
    writer.write(closure)
    os._exit(0)


def main() -> None:
    run_job(WorkerJob.from_argv(sys.argv[1:]))


if __name__ == "__main__":
    main()
