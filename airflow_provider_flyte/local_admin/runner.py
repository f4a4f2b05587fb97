"""Runs submitted executions with bounded parallelism, playing flytepropeller's role.

A fixed pool of threads takes executions in submission order; the ones waiting for a slot
stay QUEUED. With parallelism 0 there is no slot: every execution stays QUEUED, costing a queue
entry and a small work dir, until it is terminated (ABORTING, then ABORTED at once) or the
admin stops; no process is started for it. Each thread owns one worker process at a time and turns its outcome (or its
absence) into the execution's terminal phase. Nothing here depends on the RPC that created
the execution, so client disconnects do not affect runs.
"""

from __future__ import annotations

import queue
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flyteidl.admin import execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2

from airflow_provider_flyte.local_admin.executions import (
    PHASES,
    ExecutionKey,
    ExecutionStore,
    execution_key,
)
from airflow_provider_flyte.local_admin.launchers import (
    LOG_FILE,
    Launcher,
    WorkerProcess,
)
from airflow_provider_flyte.local_admin.nodes import (
    NODE_PHASES,
    end_unfinished_nodes,
    write_atomically,
    write_recovered,
)
from airflow_provider_flyte.local_admin.registry import Runnable
from airflow_provider_flyte.local_admin.worker import (
    INPUTS_FILE,
    RESULT_FILE,
    WorkerJob,
)

DEFAULT_PARALLELISM = 4
OUTPUTS_FILE = "outputs.pb"
_LOG_TAIL_BYTES = 4000


@dataclass(frozen=True)
class _Submission:
    execution_id: identifier_pb2.WorkflowExecutionIdentifier
    job: WorkerJob


class ExecutionRunner:
    def __init__(
        self,
        store: ExecutionStore,
        launcher: Launcher,
        parallelism: int = DEFAULT_PARALLELISM,
        work_root: Path | None = None,
    ) -> None:
        """Run data goes to `work_root` and is kept; without one, to a temp dir removed on close.

        `parallelism` 0 holds every execution QUEUED (nothing is ever launched).
        """
        if parallelism < 0:
            raise ValueError(f"parallelism must be 0 or more, not {parallelism}")
        self._store = store
        self._launcher = launcher
        self._keep_work = work_root is not None
        self._work_root = work_root or Path(tempfile.mkdtemp(prefix="flyte-local-admin-"))
        self._work_root.mkdir(parents=True, exist_ok=True)
        self._closing = threading.Event()
        self._queue: queue.Queue[_Submission | None] = queue.Queue()
        self._lock = threading.Lock()
        self._running: dict[ExecutionKey, tuple[identifier_pb2.WorkflowExecutionIdentifier, WorkerProcess]] = {}
        self._threads = [
            threading.Thread(target=self._serve, name=f"execution-slot-{i}", daemon=True) for i in range(parallelism)
        ]
        for thread in self._threads:
            thread.start()

    def submit(
        self,
        execution_id: identifier_pb2.WorkflowExecutionIdentifier,
        runnable: Runnable,
        inputs: literals_pb2.LiteralMap,
        recovered: Mapping[str, literals_pb2.LiteralMap] | None = None,
    ) -> None:
        """Queues a run; nodes named in `recovered` are not run again, their outputs are reused."""
        work_dir = self.work_dir(execution_id)
        work_dir.mkdir(parents=True)
        (work_dir / INPUTS_FILE).write_bytes(inputs.SerializeToString())
        write_recovered(work_dir, recovered or {})
        self._store.transition(execution_id, PHASES.QUEUED)
        self._queue.put(_Submission(execution_id, WorkerJob(runnable.location, runnable.entity_name, str(work_dir))))

    def work_dir(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> Path:
        """Where the run's inputs, outputs and node records live (names are unique per admin)."""
        return self._work_root / execution_id.name

    def abort(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> None:
        """Kills the worker if one runs; an execution still waiting for a slot is aborted at once."""
        with self._lock:
            running = self._running.get(execution_key(execution_id))
        if running is not None:
            running[1].kill()
        else:
            self._store.transition(execution_id, PHASES.ABORTED)

    def close(self) -> None:
        """Aborts everything still queued or running, so no worker outlives the admin."""
        self._closing.set()
        for _ in self._threads:
            self._queue.put(None)
        with self._lock:
            for execution_id, worker in self._running.values():
                self._store.transition(execution_id, PHASES.ABORTING, abort_metadata=_STOPPED)
                worker.kill()
        for thread in self._threads:
            thread.join(timeout=10)
        self._abort_still_queued()  # with no slot (parallelism 0) nothing took them off the queue
        self._launcher.close()
        if not self._keep_work:
            shutil.rmtree(self._work_root, ignore_errors=True)

    def _abort_still_queued(self) -> None:
        while True:
            try:
                submission = self._queue.get_nowait()
            except queue.Empty:
                return
            if submission is not None:
                self._store.transition(submission.execution_id, PHASES.ABORTED, abort_metadata=_STOPPED)

    def _serve(self) -> None:
        while (submission := self._queue.get()) is not None:
            self._run(submission)

    def _run(self, submission: _Submission) -> None:
        execution_id = submission.execution_id
        key = execution_key(execution_id)
        with self._lock:
            if self._closing.is_set():  # checked under the lock close() takes, so no worker escapes it
                self._store.transition(execution_id, PHASES.ABORTED, abort_metadata=_STOPPED)
                return
            if not self._store.transition(execution_id, PHASES.RUNNING):
                return  # aborted while queued
            try:
                worker = self._launcher.launch(submission.job)
            except Exception as error:  # noqa: BLE001 - a launch failure is the execution's outcome
                self._store.transition(execution_id, PHASES.FAILED, system_failure(f"could not start worker: {error}"))
                return
            self._running[key] = (execution_id, worker)
        worker.wait()
        with self._lock:
            del self._running[key]
        work_dir = Path(submission.job.work_dir)
        if self._store.get(execution_id).closure.phase in (PHASES.ABORTING, PHASES.ABORTED):
            end_unfinished_nodes(work_dir, NODE_PHASES.ABORTED)
            self._store.transition(execution_id, PHASES.ABORTED)  # no outputs for an aborted run
            return
        result = _read_result(work_dir)
        end_unfinished_nodes(work_dir, NODE_PHASES.FAILED)  # a worker that died mid-node
        if result.HasField("output_data"):  # stored like propeller does: a URI in the closure, data in a file
            write_atomically(work_dir / OUTPUTS_FILE, result.output_data.SerializeToString())
            result.outputs.uri = (work_dir / OUTPUTS_FILE).as_uri()
        self._store.transition(execution_id, result.phase, result)


_STOPPED = execution_pb2.AbortMetadata(cause="flyte-local-admin stopped")


def _read_result(work_dir: Path) -> execution_pb2.ExecutionClosure:
    result_file = work_dir / RESULT_FILE
    if result_file.exists():
        return execution_pb2.ExecutionClosure.FromString(result_file.read_bytes())
    log = work_dir / LOG_FILE
    tail = log.read_bytes()[-_LOG_TAIL_BYTES:].decode(errors="replace") if log.exists() else ""
    return system_failure(f"worker exited without reporting a result\n{tail}")


def system_failure(message: str) -> execution_pb2.ExecutionClosure:
    return execution_pb2.ExecutionClosure(
        phase=PHASES.FAILED,
        error=core_execution_pb2.ExecutionError(
            code="SYSTEM:Unknown", message=message, kind=core_execution_pb2.ExecutionError.SYSTEM
        ),
    )
