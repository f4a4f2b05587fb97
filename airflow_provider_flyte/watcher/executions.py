"""Watching many executions of one (connection, project, domain) with batched ListExecutions.

Each wait registers its execution name, its poll schedule and when it began waiting, then awaits
its own result; it keeps its own deadline. One loop task per watcher asks FlyteAdmin about every
execution that is due (and those due within ``COALESCE`` seconds, so schedules fall into step)
with ``ListExecutions`` filtered by ``value_in(execution_name, ...)``, ``PAGE_SIZE`` names a call,
following page tokens. So a thousand waits cost a few RPCs every few seconds, instead of one
``GetExecution`` each.

What the list cannot say is asked with ``GetExecution``, once per execution and only then:
- the list trims ``closure.error.message`` to 100 bytes, and a Python traceback's cause is on its
  last line, so a terminal execution is read whole before its waiters are woken;
- an execution missing from the list may be archived (lists show active executions only) or gone:
  GetExecution tells, and only NOT_FOUND ends that one wait;
- a name that cannot go into a filter expression is never put in one.

Faults: a transient error (the admin or the identity provider unreachable) postpones the polls
that were due by a growing backoff and ends no wait; an admin that refuses the filter
(INVALID_ARGUMENT, UNIMPLEMENTED) is asked with GetExecution instead; any other refusal ends the
waits it concerns with the admin's message.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import FlyteWaitError
from airflow_provider_flyte.naming import NAME_PATTERN
from airflow_provider_flyte.phases import ExecutionState, Outcome, outcome_of
from airflow_provider_flyte.polling import PollPolicy

if TYPE_CHECKING:
    from airflow_provider_flyte.hooks.admin_client import AsyncAdminClient

log = logging.getLogger(__name__)

PAGE_SIZE = 200
COALESCE = 1.0
CONCURRENT_GETS = 10
_RETRY_INITIAL = 2.0
_RETRY_MAX = 30.0
_FILTER_REFUSALS = ("INVALID_ARGUMENT", "UNIMPLEMENTED")


@dataclass(eq=False)
class Watch:
    """One waiter's registration: its schedule, the last state seen, and its result."""

    name: str
    policy: PollPolicy
    since: float
    last: ExecutionState
    due: float = 0.0
    result: asyncio.Future[ExecutionState] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def schedule(self, now: float) -> None:
        self.due = now + self.policy.interval(time.time() - self.since)

    async def wait(self, timeout: float | None) -> ExecutionState | None:
        """The terminal state; None if ``timeout`` seconds passed or the phase changed first
        (``last`` has the new one).

        Raises ``FlyteWaitError`` when the execution does not exist or the admin refused to say.
        """
        changed = asyncio.ensure_future(self.changed.wait())
        either: set[asyncio.Future[Any]] = {self.result, changed}
        try:
            await asyncio.wait(either, timeout=None if timeout is None else max(0.0, timeout),
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            changed.cancel()
            self.changed.clear()
        return self.result.result() if self.result.done() else None


class ExecutionWatcher:
    def __init__(self, client: AsyncAdminClient, project: str, domain: str, page_size: int = PAGE_SIZE) -> None:
        self._client = client
        self._project = project
        self._domain = domain
        self._page_size = page_size
        self._watches: dict[str, list[Watch]] = {}
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failures = 0

    def __len__(self) -> int:
        return sum(len(watches) for watches in self._watches.values())

    def add(self, name: str, policy: PollPolicy, since: float) -> Watch:
        """Register a wait; its first poll is due at once (the caller has not looked yet)."""
        watch = Watch(name, policy, since, ExecutionState(self._project, self._domain, name, "UNDEFINED"))
        watch.due = time.monotonic()
        self._watches.setdefault(name, []).append(watch)
        self._wakeup.set()
        if self._task is None or self._task.done():
            # An empty context: the loop serves every trigger, so it must not log as the first one.
            self._task = contextvars.Context().run(asyncio.get_running_loop().create_task, self._run())
        return watch

    def remove(self, watch: Watch) -> None:
        if watch.result.done() and not watch.result.cancelled():
            watch.result.exception()  # retrieved: a waiter that timed out must not leave a warning
        watches = self._watches.get(watch.name, [])
        if watch in watches:
            watches.remove(watch)
        if not watches:
            self._watches.pop(watch.name, None)
        if not self._watches and self._task is not None:
            self._task.cancel()
            self._task = None

    # -- the loop ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        while self._watches:
            now = time.monotonic()
            earliest = min(w.due for watches in self._watches.values() for w in watches)
            if earliest > now:
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), earliest - now)
                except asyncio.TimeoutError:
                    pass
                continue
            due = sorted(name for name, watches in self._watches.items() if any(w.due <= now + COALESCE for w in watches))
            try:
                await self._poll(due)
            except Exception as err:  # a bug must end the waits it touches, never hang them
                log.exception("Watching Flyte executions failed unexpectedly")
                self._fail(due, f"Watching Flyte executions failed unexpectedly: {err!r}")

    async def _poll(self, names: list[str]) -> None:
        from airflow_provider_flyte.hooks.retry import is_transient, status_code

        try:
            listed = await self._list(names)
        except Exception as err:
            if is_transient("ListExecutions", err):
                return self._postpone(names, err)
            if getattr(status_code(err), "name", "") not in _FILTER_REFUSALS:
                return self._fail(names, f"FlyteAdmin refused ListExecutions: {_describe(err)}")
            log.warning("FlyteAdmin refused a filtered ListExecutions (%s); asking GetExecution", _describe(err))
            listed = {}
        self._failures = 0
        now = time.monotonic()
        unsure = []
        for name in names:
            execution = listed.get(name)
            if execution is None or _terminal(execution):
                unsure.append(name)
            else:
                self._update(name, self._state(execution), now)
        if unsure:
            await self._read_whole(unsure)

    async def _list(self, names: list[str]) -> dict[str, Any]:
        """Listed executions by name, for the names a filter can carry."""
        from airflow_provider_flyte.hooks import admin_messages as m

        listable = [name for name in names if NAME_PATTERN.match(name)]
        found: dict[str, Any] = {}
        for start in range(0, len(listable), self._page_size):
            chunk = listable[start : start + self._page_size]
            token = ""
            while True:
                request = m.list_executions_request(self._project, self._domain, chunk, self._page_size, token)
                page = await self._client.call("ListExecutions", request)
                found.update((e.id.name, e) for e in page.executions)
                token = page.token
                if not token or all(name in found for name in chunk):
                    break
        return found

    async def _read_whole(self, names: list[str]) -> None:
        from airflow_provider_flyte.hooks import calls
        from airflow_provider_flyte.hooks.retry import is_transient

        limit = asyncio.Semaphore(CONCURRENT_GETS)
        config = self._client.config

        async def read(name: str) -> None:
            async with limit:
                try:
                    state = await calls.find_execution(config, self._project, self._domain, name).arun(self._client)
                except Exception as err:
                    if is_transient("GetExecution", err):
                        return self._postpone([name], err)
                    return self._fail([name], f"FlyteAdmin refused GetExecution for {name}: {_describe(err)}")
            if state is None:
                self._fail([name], f"Flyte execution {self._project}/{self._domain}/{name} does not exist")
            else:
                self._update(name, state, time.monotonic())

        await asyncio.gather(*(read(name) for name in names))

    # -- results ----------------------------------------------------------------------------------

    def _state(self, execution: Any) -> ExecutionState:
        from airflow_provider_flyte.hooks import admin_messages as m

        i = execution.id
        return m.state_from_execution(execution, self._client.config.execution_url(i.project, i.domain, i.name))

    def _update(self, name: str, state: ExecutionState, now: float) -> None:
        for watch in self._watches.get(name, []):
            if state.phase != watch.last.phase:
                watch.changed.set()
            watch.last = state
            if state.is_terminal:
                _settle(watch.result, state)
            else:
                watch.schedule(now)
        if state.is_terminal:
            self._watches.pop(name, None)

    def _fail(self, names: Iterable[str], message: str) -> None:
        for name in names:
            for watch in self._watches.pop(name, []):
                _settle(watch.result, FlyteWaitError(message))

    def _postpone(self, names: Iterable[str], err: BaseException) -> None:
        self._failures += 1
        delay = min(_RETRY_MAX, _RETRY_INITIAL * 2 ** (self._failures - 1))
        log.warning("FlyteAdmin unreachable while watching executions (%s); asking again in %.0fs", _describe(err), delay)
        due = time.monotonic() + delay
        for name in names:
            for watch in self._watches.get(name, []):
                watch.due = max(watch.due, due)


def _settle(future: asyncio.Future[ExecutionState], outcome: ExecutionState | Exception) -> None:
    if future.done():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _terminal(execution: Any) -> bool:
    from flyteidl.core import execution_pb2

    return outcome_of(execution_pb2.WorkflowExecution.Phase.Name(execution.closure.phase)) is not Outcome.WAITING


def _describe(err: BaseException) -> str:
    details = getattr(err, "details", None)
    code = getattr(err, "code", None)
    if callable(details) and callable(code):
        return f"{code().name}: {details()}"
    return str(err) or type(err).__name__
