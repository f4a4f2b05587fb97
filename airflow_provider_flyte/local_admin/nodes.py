"""Node execution records, written by the worker and read by the admin, through the work dir.

The worker owns a run; the admin must still answer ListNodeExecutions while it runs. So each
node is a small set of files the worker replaces atomically: `nodes/<id>.pb` (an admin
`NodeExecution` without its execution id), `nodes/<id>.inputs.pb` and `nodes/<id>.outputs.pb`
(LiteralMaps). A recovered execution gets `recovered/<id>.pb` with the outputs of every node
that succeeded in the original, which the worker copies instead of running the node.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from flyteidl.admin import node_execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2

from airflow_provider_flyte.local_admin.protos import now

NODES_DIR = "nodes"
RECOVERED_DIR = "recovered"
NODE_PHASES = core_execution_pb2.NodeExecution
_INPUTS_SUFFIX = ".inputs.pb"
_OUTPUTS_SUFFIX = ".outputs.pb"
_RECORD_SUFFIX = ".pb"


def write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


class NodeRecorder:
    """The worker's side: one record per node, updated as the node starts and ends."""

    def __init__(self, work_dir: str | Path) -> None:
        self._dir = Path(work_dir) / NODES_DIR
        self._dir.mkdir(exist_ok=True)
        self._lock = threading.Lock()
        self._running: dict[str, node_execution_pb2.NodeExecution] = {}

    def started(self, node_id: str, inputs: literals_pb2.LiteralMap) -> None:
        stamp = now()
        record = node_execution_pb2.NodeExecution(
            id=identifier_pb2.NodeExecutionIdentifier(node_id=node_id),
            input_uri=(self._dir / (node_id + _INPUTS_SUFFIX)).as_uri(),
            closure=node_execution_pb2.NodeExecutionClosure(
                phase=NODE_PHASES.RUNNING, created_at=stamp, started_at=stamp, updated_at=stamp
            ),
            metadata=node_execution_pb2.NodeExecutionMetaData(spec_node_id=node_id),
        )
        write_atomically(self._dir / (node_id + _INPUTS_SUFFIX), inputs.SerializeToString())
        with self._lock:
            self._running[node_id] = record
            self._write(record)

    def succeeded(self, node_id: str, outputs: literals_pb2.LiteralMap, phase: int = NODE_PHASES.SUCCEEDED) -> None:
        outputs_file = self._dir / (node_id + _OUTPUTS_SUFFIX)
        write_atomically(outputs_file, outputs.SerializeToString())
        self._finish(node_id, phase, output_uri=outputs_file.as_uri())

    def failed(self, node_id: str, phase: int, error: core_execution_pb2.ExecutionError) -> None:
        self._finish(node_id, phase, error=error)

    def fail_running(self, phase: int, error: core_execution_pb2.ExecutionError) -> None:
        """Ends every node still running, for a run about to be cut short (a task timeout)."""
        with self._lock:
            running = list(self._running)
        for node_id in running:
            self.failed(node_id, phase, error)

    def _finish(
        self,
        node_id: str,
        phase: int,
        output_uri: str = "",
        error: core_execution_pb2.ExecutionError | None = None,
    ) -> None:
        with self._lock:
            record = self._running.pop(node_id, None)
            if record is None:
                return
            closure = record.closure
            closure.phase = phase
            closure.updated_at.CopyFrom(now())
            closure.duration.FromNanoseconds(closure.updated_at.ToNanoseconds() - closure.started_at.ToNanoseconds())
            if output_uri:
                closure.output_uri = output_uri
            if error is not None:
                closure.error.CopyFrom(error)
            self._write(record)

    def _write(self, record: node_execution_pb2.NodeExecution) -> None:
        write_atomically(self._dir / (record.id.node_id + _RECORD_SUFFIX), record.SerializeToString())


def read_node_executions(
    work_dir: str | Path, execution_id: identifier_pb2.WorkflowExecutionIdentifier
) -> list[node_execution_pb2.NodeExecution]:
    """The admin's side: every node recorded so far, in the order the nodes started."""
    directory = Path(work_dir) / NODES_DIR
    records = []
    if directory.is_dir():
        for path in directory.iterdir():
            if _is_record(path):
                record = node_execution_pb2.NodeExecution.FromString(path.read_bytes())
                record.id.execution_id.CopyFrom(execution_id)
                records.append(record)
    return sorted(records, key=lambda record: record.closure.created_at.ToNanoseconds())


_UNFINISHED_NODE_PHASES = frozenset(
    {NODE_PHASES.UNDEFINED, NODE_PHASES.QUEUED, NODE_PHASES.RUNNING, NODE_PHASES.FAILING, NODE_PHASES.DYNAMIC_RUNNING}
)


def end_unfinished_nodes(work_dir: str | Path, phase: int) -> None:
    """The admin's side, once the worker is gone: nodes it left unfinished end in `phase`.

    A killed worker (TerminateExecution, the admin stopping) cannot record its nodes' end, so
    they would stay RUNNING under an ABORTED execution; flytepropeller aborts them with it.
    """
    directory = Path(work_dir) / NODES_DIR
    if not directory.is_dir():
        return
    for path in directory.iterdir():
        if not _is_record(path):
            continue
        record = node_execution_pb2.NodeExecution.FromString(path.read_bytes())
        closure = record.closure
        if closure.phase not in _UNFINISHED_NODE_PHASES:
            continue
        closure.phase = phase
        closure.updated_at.CopyFrom(now())
        if closure.HasField("started_at"):
            closure.duration.FromNanoseconds(closure.updated_at.ToNanoseconds() - closure.started_at.ToNanoseconds())
        write_atomically(path, record.SerializeToString())


def node_data_files(work_dir: str | Path, node_id: str) -> tuple[Path, Path]:
    directory = Path(work_dir) / NODES_DIR
    return directory / (node_id + _INPUTS_SUFFIX), directory / (node_id + _OUTPUTS_SUFFIX)


def succeeded_node_outputs(work_dir: str | Path) -> dict[str, literals_pb2.LiteralMap]:
    """Outputs of the nodes that succeeded (or were recovered), which a recovery may reuse."""
    reusable = (NODE_PHASES.SUCCEEDED, NODE_PHASES.RECOVERED)
    outputs = {}
    for record in read_node_executions(work_dir, identifier_pb2.WorkflowExecutionIdentifier()):
        node_id = record.id.node_id
        if record.closure.phase in reusable:
            outputs_file = node_data_files(work_dir, node_id)[1]
            outputs[node_id] = literals_pb2.LiteralMap.FromString(outputs_file.read_bytes())
    return outputs


def write_recovered(work_dir: str | Path, outputs: Mapping[str, literals_pb2.LiteralMap]) -> None:
    if not outputs:
        return  # no directory is read as nothing recovered; one mkdir less per CreateExecution
    directory = Path(work_dir) / RECOVERED_DIR
    directory.mkdir(exist_ok=True)
    for node_id, literal_map in outputs.items():
        (directory / (node_id + _RECORD_SUFFIX)).write_bytes(literal_map.SerializeToString())


def read_recovered(work_dir: str | Path) -> dict[str, literals_pb2.LiteralMap]:
    directory = Path(work_dir) / RECOVERED_DIR
    if not directory.is_dir():
        return {}
    return {
        path.name[: -len(_RECORD_SUFFIX)]: literals_pb2.LiteralMap.FromString(path.read_bytes())
        for path in directory.iterdir()
        if path.name.endswith(_RECORD_SUFFIX)
    }


def _is_record(path: Path) -> bool:
    name = path.name
    return name.endswith(_RECORD_SUFFIX) and not name.endswith((_INPUTS_SUFFIX, _OUTPUTS_SUFFIX))
