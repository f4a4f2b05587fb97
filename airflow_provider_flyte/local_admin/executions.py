"""The stored executions and the only place their phase changes.

Every transition goes through `ExecutionStore.transition`, which enforces what flyteadmin
enforces on workflow events: terminal phases are final, and an execution being aborted can
only end ABORTED (a worker finishing at the same moment does not win). It also keeps the
timestamps flyteadmin derives from those events.

A stored execution is a snapshot that is never changed in place: a transition stores a changed
copy instead. So `select` can hand out the stored snapshots themselves, without copying
thousands of them per ListExecutions, and callers copy only what they return.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import grpc
from flyteidl.admin import execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2

from airflow_provider_flyte.local_admin.errors import AdminError, not_found
from airflow_provider_flyte.local_admin.persistence import Journal, StoredExecution
from airflow_provider_flyte.local_admin.protos import copy_message, now

PHASES = core_execution_pb2.WorkflowExecution
TERMINAL_PHASES = frozenset({PHASES.SUCCEEDED, PHASES.FAILED, PHASES.TIMED_OUT, PHASES.ABORTED})
ExecutionKey = tuple[str, str, str]


def execution_key(identifier: identifier_pb2.WorkflowExecutionIdentifier) -> ExecutionKey:
    return (identifier.project, identifier.domain, identifier.name)


def describe_execution_id(identifier: identifier_pb2.WorkflowExecutionIdentifier) -> str:
    return f'project:"{identifier.project}" domain:"{identifier.domain}" name:"{identifier.name}"'


class ExecutionStore:
    def __init__(self, journal: Journal | None = None) -> None:
        """With a journal, every change is also written through to it (`--state-dir`)."""
        self._journal = journal
        self._changed = threading.Condition()
        self._executions: dict[ExecutionKey, execution_pb2.Execution] = {}  # snapshots, in creation order
        self._created: dict[ExecutionKey, int] = {}  # creation order, to sort executions found by name
        self._history: dict[ExecutionKey, list[int]] = {}
        self._user_inputs: dict[ExecutionKey, literals_pb2.LiteralMap] = {}

    def create(self, execution: execution_pb2.Execution, user_inputs: literals_pb2.LiteralMap) -> None:
        """Stores a new execution with the inputs the caller gave (what a relaunch re-sends)."""
        key = execution_key(execution.id)
        with self._changed:
            if key in self._executions:
                raise AdminError(
                    grpc.StatusCode.ALREADY_EXISTS,
                    f"value with matching already exists (duplicate key value violates unique constraint "
                    f'"executions_pkey": execution {describe_execution_id(execution.id)})',
                )
            self._executions[key] = copy_message(execution)
            self._created[key] = len(self._created)
            self._user_inputs[key] = copy_message(user_inputs)
            self._history[key] = [execution.closure.phase]
            self._save(key)
            self._changed.notify_all()

    def restore(self, stored: list[StoredExecution]) -> None:
        """Loads a journal's executions; the ones that were still running can only have failed."""
        for entry in stored:
            key = execution_key(entry.execution.id)
            with self._changed:
                self._executions[key] = entry.execution
                self._created.setdefault(key, len(self._created))
                self._user_inputs[key] = entry.user_inputs
                self._history[key] = entry.history
            phase = entry.execution.closure.phase
            if phase == PHASES.ABORTING:
                self.transition(entry.execution.id, PHASES.ABORTED)
            elif phase not in TERMINAL_PHASES:
                self.transition(entry.execution.id, PHASES.FAILED, _lost_with_the_admin())

    def get(self, identifier: identifier_pb2.WorkflowExecutionIdentifier) -> execution_pb2.Execution:
        with self._changed:
            return copy_message(self._stored(identifier))

    def user_inputs(self, identifier: identifier_pb2.WorkflowExecutionIdentifier) -> literals_pb2.LiteralMap:
        with self._changed:
            self._stored(identifier)
            return copy_message(self._user_inputs[execution_key(identifier)])

    def all(self) -> list[execution_pb2.Execution]:
        with self._changed:
            return [copy_message(e) for e in self._executions.values()]

    def select(
        self, project: str, domain: str, names: Iterable[str] | None = None
    ) -> list[execution_pb2.Execution]:
        """The executions of a project and domain in creation order; only those named, if `names` is given.

        Names are looked up by key, so selecting a few hundred names among thousands of executions
        costs what those few hundred cost. The snapshots returned are shared: read them, or copy
        them before changing anything.
        """
        with self._changed:
            if names is None:
                return [e for (p, d, _), e in self._executions.items() if p == project and d == domain]
            keys = {(project, domain, name) for name in names} & self._executions.keys()
            return [self._executions[key] for key in sorted(keys, key=self._created.__getitem__)]

    def history(self, identifier: identifier_pb2.WorkflowExecutionIdentifier) -> list[int]:
        with self._changed:
            self._stored(identifier)
            return list(self._history[execution_key(identifier)])

    def transition(
        self,
        identifier: identifier_pb2.WorkflowExecutionIdentifier,
        phase: int,
        result: execution_pb2.ExecutionClosure | None = None,
        abort_metadata: execution_pb2.AbortMetadata | None = None,
    ) -> bool:
        """Applies a phase change unless the execution's state forbids it; says whether it applied."""
        with self._changed:
            stored = self._stored(identifier)
            if not _allowed(stored.closure.phase, phase):
                return False
            execution = copy_message(stored)  # snapshots are replaced, never changed in place
            closure = execution.closure
            stamp = now()
            closure.phase = phase
            closure.updated_at.CopyFrom(stamp)
            if phase == PHASES.RUNNING:
                closure.started_at.CopyFrom(stamp)
            if abort_metadata is not None:
                closure.abort_metadata.CopyFrom(abort_metadata)
            if result is not None and result.HasField("error"):
                closure.error.CopyFrom(result.error)
            if result is not None and result.HasField("outputs"):
                closure.outputs.CopyFrom(result.outputs)
            if phase in TERMINAL_PHASES:
                start = closure.started_at if closure.HasField("started_at") else stamp
                closure.duration.FromNanoseconds(max(0, stamp.ToNanoseconds() - start.ToNanoseconds()))
            key = execution_key(identifier)
            self._executions[key] = execution
            self._history[key].append(phase)
            self._save(key)
            self._changed.notify_all()
            return True

    def _save(self, key: ExecutionKey) -> None:
        if self._journal is not None:
            self._journal.save_execution(
                "/".join(key), self._executions[key], self._user_inputs[key], self._history[key]
            )

    def wait_for_phase(
        self, identifier: identifier_pb2.WorkflowExecutionIdentifier, phases: Iterable[int], timeout: float
    ) -> execution_pb2.Execution:
        wanted = set(phases)
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._stored(identifier).closure.phase not in wanted:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    phase = PHASES.Phase.Name(self._stored(identifier).closure.phase)
                    raise TimeoutError(f"{identifier.name} still {phase} after {timeout} s")
                self._changed.wait(remaining)
            return copy_message(self._stored(identifier))

    def _stored(self, identifier: identifier_pb2.WorkflowExecutionIdentifier) -> execution_pb2.Execution:
        found = self._executions.get(execution_key(identifier))
        if found is None:
            raise not_found(f"missing entity of type execution with identifier {describe_execution_id(identifier)}")
        return found


def _lost_with_the_admin() -> execution_pb2.ExecutionClosure:
    return execution_pb2.ExecutionClosure(
        error=core_execution_pb2.ExecutionError(
            code="SYSTEM:AdminRestarted",
            message="flyte-local-admin stopped while the execution was running; it cannot resume",
            kind=core_execution_pb2.ExecutionError.SYSTEM,
        )
    )


def _allowed(current: int, new: int) -> bool:
    if current in TERMINAL_PHASES or current == new:
        return False
    if current == PHASES.ABORTING:
        return new == PHASES.ABORTED
    return True
