"""The runs: each one's root action ``a0`` and its way through the phases, as the service reports them.

A run starts QUEUED (and stays so while ``parallelism`` task processes already run), turns RUNNING once
its task's process has started, and ends SUCCEEDED (outputs
written), FAILED (the function raised, error_info USER with the exception's last line; or the process died
without saying why, SYSTEM), TIMED_OUT (the task's declared timeout passed; the process is killed) or
ABORTED (AbortRun: the process tree is killed, abort_info keeps the reason and who asked). Every change
wakes the watchers, so WatchRunDetails / WatchActionDetails stream each phase and end at a terminal one.

Everything here runs on the server's event loop; ``snapshot`` is what other threads may read.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from flyteidl2.common import identifier_pb2, identity_pb2, phase_pb2
from flyteidl2.task import common_pb2, run_pb2
from flyteidl2.workflow import run_definition_pb2

import airflow_provider_flyte.local_flyte2.runner as runner
from airflow_provider_flyte.local_flyte2.registry import DeployedTask

ROOT_ACTION = "a0"
TERMINAL_PHASES = frozenset(
    {
        phase_pb2.ACTION_PHASE_SUCCEEDED,
        phase_pb2.ACTION_PHASE_FAILED,
        phase_pb2.ACTION_PHASE_ABORTED,
        phase_pb2.ACTION_PHASE_TIMED_OUT,
    }
)
_USER = run_definition_pb2.ErrorInfo.KIND_USER
_SYSTEM = run_definition_pb2.ErrorInfo.KIND_SYSTEM


def _timestamp(seconds: float | None, target: object) -> None:
    if seconds is not None:
        target.FromNanoseconds(int(seconds * 1e9))  # type: ignore[attr-defined]


@dataclass
class Run:
    """One run and its root action (this service runs no sub-actions)."""

    run_id: identifier_pb2.RunIdentifier
    task: DeployedTask
    inputs: common_pb2.Inputs
    run_spec: run_pb2.RunSpec
    folder: Path
    created_at: float = field(default_factory=time.time)
    phase: int = phase_pb2.ACTION_PHASE_QUEUED
    started_at: float | None = None
    ended_at: float | None = None
    outputs: common_pb2.Outputs | None = None
    error_info: run_definition_pb2.ErrorInfo | None = None
    abort_info: run_definition_pb2.AbortInfo | None = None
    process: asyncio.subprocess.Process | None = None
    abort_requested: bool = False
    # The run's execution, and whether it has begun starting the task's process (from then on an abort
    # goes through the process; before, it cancels the execution, which may still wait for a slot).
    execution: asyncio.Task[None] | None = None
    starting: bool = False

    @property
    def name(self) -> str:
        return self.run_id.name

    @property
    def done(self) -> bool:
        return self.phase in TERMINAL_PHASES

    @property
    def action_id(self) -> identifier_pb2.ActionIdentifier:
        return identifier_pb2.ActionIdentifier(run=self.run_id, name=ROOT_ACTION)

    def status(self) -> run_definition_pb2.ActionStatus:
        status = run_definition_pb2.ActionStatus(phase=self.phase, attempts=1)
        _timestamp(self.created_at, status.start_time)
        _timestamp(self.ended_at, status.end_time)
        if self.ended_at is not None:
            status.duration_ms = int((self.ended_at - self.created_at) * 1000)
        return status

    def metadata(self) -> run_definition_pb2.ActionMetadata:
        spec = self.task.spec
        return run_definition_pb2.ActionMetadata(
            action_type=run_definition_pb2.ACTION_TYPE_TASK,
            task=run_definition_pb2.TaskActionMetadata(
                id=self.task.task_id, task_type=spec.task_template.type, short_name=spec.short_name
            ),
            environment_name=spec.environment.name,
            funtion_name=spec.short_name,
        )

    def action(self) -> run_definition_pb2.Action:
        return run_definition_pb2.Action(id=self.action_id, metadata=self.metadata(), status=self.status())

    def attempt(self) -> run_definition_pb2.ActionAttempt:
        logs_available = self.process is not None  # the task's output goes to its log from its start
        attempt = run_definition_pb2.ActionAttempt(phase=self.phase, attempt=1, logs_available=logs_available)
        _timestamp(self.started_at or self.created_at, attempt.start_time)
        _timestamp(self.ended_at, attempt.end_time)
        if self.error_info is not None:
            attempt.error_info.CopyFrom(self.error_info)
        return attempt

    def action_details(self) -> run_definition_pb2.ActionDetails:
        details = run_definition_pb2.ActionDetails(
            id=self.action_id,
            metadata=self.metadata(),
            status=self.status(),
            task=self.task.spec,
            attempts=[self.attempt()],
        )
        if self.error_info is not None:
            details.error_info.CopyFrom(self.error_info)
        if self.abort_info is not None:
            details.abort_info.CopyFrom(self.abort_info)
        return details

    def proto(self) -> run_definition_pb2.Run:
        return run_definition_pb2.Run(action=self.action())

    def details(self) -> run_definition_pb2.RunDetails:
        return run_definition_pb2.RunDetails(run_spec=self.run_spec, action=self.action_details())


@dataclass(frozen=True)
class RunView:
    """A run as tests and users see it from outside the service's loop (``LocalFlyte2Service.runs()``)."""

    name: str
    task_name: str
    task_version: str
    phase: str
    error_message: str | None
    abort_reason: str | None
    pid: int | None


def _phase_name(phase: int) -> str:
    return phase_pb2.ActionPhase.Name(phase).removeprefix("ACTION_PHASE_")


class RunStore:
    """The runs by (project, domain, name) (org is not part of the key, as in the open-source run table),
    and the execution of each."""

    def __init__(self, state_dir: Path, parallelism: int) -> None:
        self._state_dir = state_dir
        self._runs: dict[tuple[str, str, str], Run] = {}
        self._changed = asyncio.Condition()
        # At most this many task processes at once (each is a Python with the SDK loaded); the others wait QUEUED.
        self._slots = asyncio.Semaphore(parallelism)
        self._executions: set[asyncio.Task[None]] = set()

    def snapshot(self) -> list[RunView]:
        return [
            RunView(
                name=run.name,
                task_name=run.task.name,
                task_version=run.task.task_id.version,
                phase=_phase_name(run.phase),
                error_message=run.error_info.message if run.error_info else None,
                abort_reason=run.abort_info.reason if run.abort_info else None,
                pid=run.process.pid if run.process else None,
            )
            for run in list(self._runs.values())
        ]

    def create(
        self,
        run_id: identifier_pb2.RunIdentifier,
        task: DeployedTask,
        inputs: common_pb2.Inputs,
        run_spec: run_pb2.RunSpec,
    ) -> Run:
        """Record a run and start executing it; already_exists when the name is taken in its project/domain."""
        key = (run_id.project, run_id.domain, run_id.name)
        if key in self._runs:
            raise ConnectError(
                Code.ALREADY_EXISTS, f"run already exists: {run_id.project}/{run_id.domain}/{run_id.name}"
            )
        folder = self._state_dir / run_id.project / run_id.domain / run_id.name / ROOT_ACTION
        run = Run(run_id=run_id, task=task, inputs=inputs, run_spec=run_spec, folder=folder)
        self._runs[key] = run
        execution = run.execution = asyncio.get_running_loop().create_task(self._execute(run))
        self._executions.add(execution)
        execution.add_done_callback(self._executions.discard)
        return run

    def get(self, run_id: identifier_pb2.RunIdentifier) -> Run:
        run = self._runs.get((run_id.project, run_id.domain, run_id.name))
        if run is None:
            raise ConnectError(
                Code.NOT_FOUND, f"run not found: {run_id.project}/{run_id.domain}/{run_id.name}"
            )
        return run

    def get_action(self, action_id: identifier_pb2.ActionIdentifier) -> Run:
        """The run whose root action ``action_id`` names; not_found for any other action."""
        run = self.get(action_id.run)
        if action_id.name != ROOT_ACTION:
            raise ConnectError(Code.NOT_FOUND, f"action not found: {action_id.name}")
        return run

    def in_project(self, project: str, domain: str, task_name: str | None = None) -> list[Run]:
        """A project/domain's runs (of one task, when given), in the order they were created."""
        runs = [
            run
            for (p, d, _), run in self._runs.items()
            if p == project and d == domain and (task_name is None or run.task.name == task_name)
        ]
        return sorted(runs, key=lambda run: run.created_at)

    async def abort(self, run: Run, reason: str, principal: str) -> None:
        """Abort a run: kill its process tree; its execution then ends it ABORTED (as the real service,
        AbortRun answers before the run is ABORTED). A finished run is marked ABORTED too, keeping when
        it ended, as open-source Flyte 2 does (its AbortRun updates the root action whatever its phase)."""
        info = run_definition_pb2.AbortInfo(
            reason=reason, aborted_by=identity_pb2.EnrichedIdentity(user=identity_pb2.User(spec=identity_pb2.UserSpec(user_handle=principal)))
        )
        if run.done:
            async with self._changed:
                run.abort_info = info
                run.phase = phase_pb2.ACTION_PHASE_ABORTED
                self._changed.notify_all()
            return
        if run.abort_requested:
            return
        run.abort_requested = True
        run.abort_info = info
        if run.starting:
            if run.process is not None:
                runner.kill(run.process)  # its execution sees the abort once the process is gone, and ends the run
        else:
            if run.execution is not None:
                run.execution.cancel()  # still QUEUED: no process to kill
            await self._finish(run, phase_pb2.ACTION_PHASE_ABORTED)

    async def watch(self, run: Run) -> AsyncIterator[Run]:
        """Yield the run now and after every change, ending after the first terminal phase."""
        while True:
            seen = (run.phase, run.ended_at)
            yield run
            if run.done:
                return
            async with self._changed:
                await self._changed.wait_for(lambda seen=seen: (run.phase, run.ended_at) != seen)  # type: ignore[misc]

    async def log_lines(self, run: Run, poll: float = 0.1) -> AsyncIterator[list[str]]:
        """The lines of the run's task log as they are written, in batches, ending once the run has ended
        and its log is read to the end. not_found while the task's process has not started."""
        if run.process is None:
            raise ConnectError(Code.NOT_FOUND, f"log stream not found for action {ROOT_ACTION} of run {run.name}")
        with open(run.folder / runner.LOG_FILE, "rb") as log:
            pending = b""
            while True:
                done = run.done  # read before the file: whatever was written before the end is read below
                pending += log.read()
                *lines, pending = pending.split(b"\n")
                if lines:
                    yield [line.decode("utf-8", "replace") for line in lines]
                if done:
                    if pending:
                        yield [pending.decode("utf-8", "replace")]
                    return
                await asyncio.sleep(poll)

    async def close(self) -> None:
        """Kill every run still executing (the service is stopping) and wait for their executions to end."""
        processes = [run.process for run in self._runs.values() if run.process is not None and not run.done]
        for process in processes:
            runner.kill(process)
        for execution in list(self._executions):
            execution.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await execution
        for process in processes:
            await process.wait()  # reaped, so no zombie is left behind

    async def _set_phase(self, run: Run, phase: int) -> None:
        async with self._changed:
            run.phase = phase
            self._changed.notify_all()

    async def _finish(self, run: Run, phase: int, error_info: run_definition_pb2.ErrorInfo | None = None) -> None:
        async with self._changed:
            run.ended_at = time.time()
            run.error_info = error_info
            run.phase = phase
            self._changed.notify_all()

    async def _execute(self, run: Run) -> None:
        try:
            async with self._slots:
                await self._run_task(run)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the service's own failure (a folder it cannot write, a process it cannot start)
            message = f"the local Flyte 2 run service could not run the task: {exc!r}"
            await self._finish(run, phase_pb2.ACTION_PHASE_FAILED, run_definition_pb2.ErrorInfo(message=message, kind=_SYSTEM, code="LocalServiceError"))

    @staticmethod
    async def _function_started(run: Run, process: asyncio.subprocess.Process, poll: float = 0.02) -> None:
        """Return once the runner is calling the task function, or has exited before it could."""
        started = run.folder / runner.STARTED_FILE
        while process.returncode is None and not started.exists():
            try:
                await asyncio.wait_for(asyncio.shield(process.wait()), timeout=poll)
            except asyncio.TimeoutError:
                pass

    async def _run_task(self, run: Run) -> None:
        run.starting = True
        runner.prepare(run.folder, run.task.source_file, run.task.name, run.inputs.SerializeToString())
        process = run.process = await runner.start(run.folder)
        if run.abort_requested:
            runner.kill(process)  # the abort came while the process was starting
        else:
            run.started_at = time.time()
            await self._set_phase(run, phase_pb2.ACTION_PHASE_RUNNING)
        try:
            # The task's timeout counts from its function's start, not from the interpreter's (which
            # imports Flyte and the task's file first: seconds on a loaded machine).
            await self._function_started(run, process)
            await asyncio.wait_for(process.wait(), timeout=run.task.timeout_seconds)
        except asyncio.TimeoutError:
            runner.kill(process)
            await process.wait()
            message = f"task {run.task.name} timed out after {run.task.timeout_seconds:g}s"
            error = run_definition_pb2.ErrorInfo(message=message, kind=_USER, code="TaskTimeoutError")
            await self._finish(run, phase_pb2.ACTION_PHASE_TIMED_OUT, error)
            return
        except asyncio.CancelledError:
            runner.kill(process)
            raise
        if run.abort_requested:
            await self._finish(run, phase_pb2.ACTION_PHASE_ABORTED)
            return
        outputs = runner.outputs_of(run.folder)
        if process.returncode == 0 and outputs is not None:
            run.outputs = common_pb2.Outputs.FromString(outputs)
            await self._finish(run, phase_pb2.ACTION_PHASE_SUCCEEDED)
            return
        failure = runner.failure_of(run.folder)
        if failure is not None:
            error = run_definition_pb2.ErrorInfo(message=failure.message, kind=_USER, code=failure.code)
        else:
            message = f"the task's process exited with code {process.returncode} without reporting an error"
            error = run_definition_pb2.ErrorInfo(message=message, kind=_SYSTEM, code="ProcessExited")
        await self._finish(run, phase_pb2.ACTION_PHASE_FAILED, error)
