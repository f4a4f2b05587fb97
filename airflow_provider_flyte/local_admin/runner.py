"""Runs submitted executions with bounded parallelism, playing flytepropeller's role.

A fixed pool of threads takes executions in submission order; the ones waiting for a slot
stay QUEUED. Each thread owns one worker process at a time and turns its outcome (or its
absence) into the execution's terminal phase. Nothing here depends on the RPC that created
the execution, so client disconnects do not affect runs.
"""

from __future__ import annotations

import queue
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from flyteidl.admin import execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2, identifier_pb2, literals_pb2

from airflow_provider_flyte.local_admin.executions import PHASES, ExecutionKey, ExecutionStore, execution_key
from airflow_provider_flyte.local_admin.launchers import LOG_FILE, Launcher, WorkerProcess
from airflow_provider_flyte.local_admin.registry import Runnable
from airflow_provider_flyte.local_admin.worker import INPUTS_FILE, RESULT_FILE, WorkerJob

DEFAULT_PARALLELISM = 4
_LOG_TAIL_BYTES = 4000


@dataclass(frozen=True)
class _Submission:
    execution_id: identifier_pb2.WorkflowExecutionIdentifier
    job: WorkerJob


class ExecutionRunner:
    def __init__(self, store: ExecutionStore, launcher: Launcher, parallelism: int = DEFAULT_PARALLELISM) -> None:
        self._store = store
        self._launcher = launcher
        self._work_root = Path(tempfile.mkdtemp(prefix="flyte-local-admin-"))
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
    ) -> None:
        work_dir = self._work_root / execution_id.name
        work_dir.mkdir(parents=True)
        (work_dir / INPUTS_FILE).write_bytes(inputs.SerializeToString())
        self._store.transition(execution_id, PHASES.QUEUED)
        self._queue.put(_Submission(execution_id, WorkerJob(runnable.location, runnable.entity_name, str(work_dir))))

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
        stopped = execution_pb2.AbortMetadata(cause="flyte-local-admin stopped")
        with self._lock:
            for execution_id, worker in self._running.values():
                self._store.transition(execution_id, PHASES.ABORTING, abort_metadata=stopped)
                worker.kill()
        for thread in self._threads:
            thread.join(timeout=10)
        self._launcher.close()
        shutil.rmtree(self._work_root, ignore_errors=True)

    def _serve(self) -> None:
        while (submission := self._queue.get()) is not None:
            if self._closing.is_set():
                self._store.transition(submission.execution_id, PHASES.ABORTED)
            else:
                self._run(submission)

    def _run(self, submission: _Submission) -> None:
        execution_id = submission.execution_id
        key = execution_key(execution_id)
        with self._lock:
            if not self._store.transition(execution_id, PHASES.RUNNING):
                return  # aborted while queued
            try:
                worker = self._launcher.launch(submission.job)
            except Exception as error:  # noqa: BLE001 - a launch failure is the execution's outcome
                self._store.transition(execution_id, PHASES.FAILED, _system_failure(f"could not start worker: {error}"))
                return
            self._running[key] = (execution_id, worker)
        worker.wait()
        with self._lock:
            del self._running[key]
        if self._store.get(execution_id).closure.phase == PHASES.ABORTING:
            self._store.transition(execution_id, PHASES.ABORTED)
            return
        result = _read_result(Path(submission.job.work_dir))
        self._store.transition(execution_id, result.phase, result)


def _read_result(work_dir: Path) -> execution_pb2.ExecutionClosure:
    result_file = work_dir / RESULT_FILE
    if result_file.exists():
        return execution_pb2.ExecutionClosure.FromString(result_file.read_bytes())
    log = work_dir / LOG_FILE
    tail = log.read_bytes()[-_LOG_TAIL_BYTES:].decode(errors="replace") if log.exists() else ""
    return _system_failure(f"worker exited without reporting a result\n{tail}")


def _system_failure(message: str) -> execution_pb2.ExecutionClosure:
    return execution_pb2.ExecutionClosure(
        phase=PHASES.FAILED,
        error=core_execution_pb2.ExecutionError(
            code="SYSTEM:Unknown", message=message, kind=core_execution_pb2.ExecutionError.SYSTEM
        ),
    )
