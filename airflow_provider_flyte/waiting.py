"""One way to wait for a Flyte execution.

The operator (blocking and deferred), the sensor (poke, reschedule and deferred) and the trigger
wait the same way, defined here: when to ask again (``polling``), that a FlyteAdmin outage is
waited out instead of failing a task whose execution still runs, how a terminal phase becomes
the task's outcome (``phases``, ``exceptions``), one absolute deadline per try, and what a
trigger event says when the task resumes. In the triggerer the asking is the shared watcher's
(``watcher/``), which follows the same schedule. What differs stays in each task's own file:
the operator launches, recovers and terminates on its timeout; the sensor never terminates and
may skip.

Flyte 2 (``flyte2.waiting``) waits the same way with its own state class (``RunState``: its phase
table, its names in messages) and its own lookup: ``observe_with``, ``wait_with``,
``parse_event`` and ``resume`` take those as arguments, and ``observe``/``wait``/
``FlyteTriggerEvent.parse`` are them bound to FlyteAdmin.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from airflow_provider_flyte.exceptions import FlyteProviderError, FlyteWaitError, raise_for_outcome
from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.phases import ExecutionState
from airflow_provider_flyte.polling import PollPolicy

if TYPE_CHECKING:
    from airflow.sdk import Context

S = TypeVar("S", bound=ExecutionState)
E = TypeVar("E", bound="FlyteTriggerEvent")

class Log(Protocol):
    """What waiting writes to: a task's or a trigger's logger (stdlib or Airflow's structlog)."""

    def info(self, msg: Any, /, *args: Any) -> Any: ...

    def warning(self, msg: Any, /, *args: Any) -> Any: ...


EVENT_STATUSES = ("terminal", "timeout", "error")
# A wait says it is still alive this often (hours of silence read as a hung task).
PROGRESS_EVERY = 300.0
_REQUIRED_KEYS = {"status", "state", "message"}


@dataclass(frozen=True)
class Deadline:
    """A wall-clock deadline (seconds since the epoch), or none.

    Absolute, so it means the same after a deferral, a triggerer restart or the recovery of a
    successor execution: a try's ``timeout`` is counted once, from when the try began waiting.
    """

    at: float | None = None

    @classmethod
    def after(cls, seconds: float | None) -> Deadline:
        return cls(None if seconds is None else time.time() + seconds)

    def remaining(self) -> float | None:
        return None if self.at is None else max(0.0, self.at - time.time())

    @property
    def passed(self) -> bool:
        return self.at is not None and time.time() >= self.at


class FlyteWaiter:
    """What the operator and the sensor share: their hook, and where their executions live."""

    flyte_conn_id: str
    project: str | None
    domain: str | None

    @cached_property
    def hook(self) -> FlyteHook:
        return FlyteHook(flyte_conn_id=self.flyte_conn_id)

    def _where(self) -> tuple[str, str]:
        return self.hook.project_domain(self.project, self.domain)


@dataclass(frozen=True)
class Service:
    """What waiting knows of the service it asks for a state: its name in log lines, the RPC that
    reads a state (whether a fault is transient is judged per RPC) and how a fault is told."""

    name: str
    rpc: str
    is_transient: Callable[[str, BaseException], bool]
    describe: Callable[[BaseException], str] = str

    def outage(self, name: str, err: Exception, log: Log) -> bool:
        """True (and said in the log) when ``err`` is an outage to wait out, not a refusal."""
        if not self.is_transient(self.rpc, err):
            return False
        log.warning("%s unreachable while waiting for %s (%s); will ask again", self.name, name, self.describe(err))
        return True


def existing(found: S | None, what: str) -> S:
    """``found``; raises ``FlyteWaitError`` when the lookup found nothing (``what`` names it)."""
    if found is None:
        raise FlyteWaitError(f"{what} does not exist")
    return found


def observe_with(find: Callable[[], S | None], service: Service, what: str, name: str, log: Log) -> S | None:
    """The state ``find`` reads now, or None while ``service`` is unreachable (an outage that
    outlasts the client's retries is waited out). Raises ``FlyteWaitError`` if there is none."""
    try:
        found = find()
    except Exception as err:
        if not service.outage(name, err, log):
            raise
        return None
    return existing(found, what)


def _admin_transient(rpc: str, err: BaseException) -> bool:
    from airflow_provider_flyte.hooks.retry import is_transient

    return is_transient(rpc, err)


FLYTEADMIN = Service("FlyteAdmin", "GetExecution", _admin_transient)


def observe(hook: FlyteHook, project: str, domain: str, name: str, log: Log) -> ExecutionState | None:
    """The execution's state now, or None while FlyteAdmin is unreachable. Raises
    ``FlyteWaitError`` if there is no such execution."""
    what = f"{ExecutionState.NOUN} {project}/{domain}/{name}"
    return observe_with(lambda: hook.find_execution(project, domain, name), FLYTEADMIN, what, name, log)


class Progress:
    """What a wait tells the task log: each phase change once (the ending is ``conclude``'s to
    tell), and while nothing changes, a line every ``PROGRESS_EVERY`` seconds."""

    def __init__(self, log: Log, state: ExecutionState) -> None:
        self._log = log
        self._phase = state.phase
        self._started = self._said = time.monotonic()

    def seen(self, state: ExecutionState) -> None:
        now = time.monotonic()
        if state.is_terminal:
            return
        if state.phase != self._phase:
            self._log.info("%s", state.summary())
        elif now - self._said >= PROGRESS_EVERY:
            self._log.info("%s", state.summary(f", still, after {_elapsed(now - self._started)} of waiting"))
        else:
            return
        self._phase, self._said = state.phase, now


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def wait_with(
    state: S,
    look: Callable[[S], S | None],
    policy: PollPolicy,
    deadline: Deadline,
    log: Log,
    seen: Callable[[S], None] = lambda _: None,
) -> S:
    """Poll with ``look`` (the state now, None while the service is unreachable) until the
    execution ends or the deadline passes; the last state seen either way. ``seen`` is told each
    new state after the progress line."""
    started = time.monotonic()
    progress = Progress(log, state)
    while not state.is_terminal and not deadline.passed:
        pause = policy.interval(time.monotonic() - started)
        remaining = deadline.remaining()
        time.sleep(pause if remaining is None else min(pause, remaining))
        now = look(state)
        if now is not None:
            progress.seen(now)
            seen(now)
            state = now
    return state


def wait(hook: FlyteHook, state: ExecutionState, policy: PollPolicy, deadline: Deadline, log: Log) -> ExecutionState:
    """Poll until the execution ends or the deadline passes; the last state seen either way. Each
    state seen also reports the gates (signals) it waits on."""
    from airflow_provider_flyte.hooks import calls
    from airflow_provider_flyte.hooks.retry import is_transient
    from airflow_provider_flyte.signals.pending import GateReporter

    gates = GateReporter(log)

    def report_gates(seen: ExecutionState) -> None:
        try:
            calls.drive(gates.look(seen), hook.client)
        except Exception as err:
            if not is_transient("ListSignals", err):
                raise  # a transient fault only delays the news to the next poll

    def look(s: ExecutionState) -> ExecutionState | None:
        return observe(hook, s.project, s.domain, s.name, log)

    return wait_with(state, look, policy, deadline, log, report_gates)


def conclude(state: ExecutionState, log: Log) -> None:
    """Return when the execution SUCCEEDED; otherwise raise what ended it. The exception carries
    the Flyte error or abort cause, so the state is not logged as well (it would appear twice)."""
    raise_for_outcome(state)
    log.info("%s", state.summary())


def push_outputs(context: Context, hook: FlyteHook, state: ExecutionState) -> dict[str, Any]:
    outputs = hook.get_outputs(state.project, state.domain, state.name)
    context["ti"].xcom_push(key="outputs", value=outputs)
    return outputs


@dataclass(frozen=True)
class FlyteTriggerEvent:
    """A validated trigger payload: what the operator and the sensor resume from.

    It repeats the wait's ``deadline``: the task also gets it through ``defer(kwargs=...)``, but
    ``dag.test()`` drops those kwargs when it runs a trigger inline. Events written by 1.0.0.dev0
    have no deadline and still parse. ``STATE`` is the state class its events carry (a subclass
    of this event sets another, as Flyte 2's ``RunEvent`` does).
    """

    STATE: ClassVar[type[ExecutionState]] = ExecutionState

    status: str
    state: ExecutionState | None
    message: str = ""
    deadline: float | None = None

    def payload(self) -> dict[str, Any]:
        state = self.state.to_dict() if self.state else None
        return {"status": self.status, "state": state, "message": self.message, "deadline": self.deadline}

    @classmethod
    def parse(cls: type[E], event: Any, expected: Sequence[str] | None = None) -> E:
        """Refuse any event we did not make: a malformed one must never read as success.

        ``expected`` (project, domain, name) is the execution the task deferred on; an event about
        any other execution is refused too. The state is rebuilt as ``STATE``, whose own phase
        table judges the phase.
        """
        what = f"{cls.STATE.PRODUCT} trigger"
        if not isinstance(event, Mapping) or not _REQUIRED_KEYS <= set(event) <= _REQUIRED_KEYS | {"deadline"}:
            raise FlyteProviderError(f"Malformed {what} event: {event!r}")
        deadline = event.get("deadline")
        if deadline is not None and (isinstance(deadline, bool) or not isinstance(deadline, (int, float))):
            raise FlyteProviderError(f"{what} event deadline must be a number or null, got {deadline!r}")
        status = event["status"]
        if status not in EVENT_STATUSES:
            raise FlyteProviderError(f"{what} event status must be one of {EVENT_STATUSES}, got {status!r}")
        try:
            state = cls.STATE.from_dict(event["state"]) if event["state"] is not None else None
        except ValueError as err:
            raise FlyteProviderError(f"Malformed {what} event: {err}") from None
        if status == "terminal" and (state is None or not state.is_terminal):
            raise FlyteProviderError(f"{what} event claims a terminal state but carries {event['state']!r}")
        if status == "timeout" and state is None:
            raise FlyteProviderError(f"{what} timeout event carries no {cls.STATE.KIND.lower()}")
        if expected is not None and state is not None and [state.project, state.domain, state.name] != list(expected):
            raise FlyteProviderError(
                f"{what} event is about {state.project}/{state.domain}/{state.name}, "
                f"but this task waits for {'/'.join(expected)}"
            )
        return cls(status=status, state=state, message=str(event["message"]), deadline=deadline)


@dataclass(frozen=True)
class Resumed(Generic[S]):
    state: S
    deadline_passed: bool
    deadline: Deadline


def resume_as(
    state_class: type[S], event_class: type[FlyteTriggerEvent], event: Any, expected: Sequence[str] | None, deadline: float | None
) -> Resumed[S]:
    """What a trigger event (parsed as ``event_class``, carrying a ``state_class``) tells the task
    that deferred: the state, whether the wait's deadline passed first, and that deadline
    (``deadline`` as the task deferred with it, else the event's). An error event (no such
    execution, access refused) raises."""
    parsed = event_class.parse(event, expected)
    if parsed.status == "error" or parsed.state is None:
        raise FlyteWaitError(parsed.message)
    if not isinstance(parsed.state, state_class):
        raise FlyteProviderError(f"{event_class.__name__} carries a {type(parsed.state).__name__}, not a {state_class.__name__}")
    return Resumed(parsed.state, parsed.status == "timeout", Deadline(deadline if deadline is not None else parsed.deadline))


def resume(event: Any, expected: Sequence[str] | None, deadline: float | None) -> Resumed[ExecutionState]:
    """``resume_as`` for a FlyteAdmin execution's event."""
    return resume_as(ExecutionState, FlyteTriggerEvent, event, expected, deadline)


# What the sensors of both Flytes (``sensors.flyte``, ``flyte2.sensor``) do alike with a state.


def sensor_poked(state: S | None, log: Log, conclude: Callable[[S], None]) -> bool:
    """A poke's answer for ``state`` (None: not known this time): done only when it is terminal,
    and then ``conclude``d."""
    if state is None:
        return False
    log.info("%s", state.summary())
    if not state.is_terminal:
        return False
    conclude(state)
    return True


def sensor_resumed(resumed: Resumed[S], timeout: float) -> S:
    """The state a deferred sensor resumes with; the sensor's timeout passing first fails it."""
    from airflow_provider_flyte.compat import AirflowSensorTimeout

    if resumed.deadline_passed:
        raise AirflowSensorTimeout(resumed.state.summary(f"; sensor timeout of {timeout}s expired"))
    return resumed.state


def sensor_soft_fail(state: ExecutionState, soft_fail: bool) -> None:
    """A sensor never stops what it watches; with ``soft_fail`` a bad ending skips the task."""
    from airflow_provider_flyte.compat import AirflowSkipException
    from airflow_provider_flyte.exceptions import state_message
    from airflow_provider_flyte.phases import Outcome

    if soft_fail and state.outcome is not Outcome.SUCCEEDED:
        raise AirflowSkipException(f"soft_fail: {state_message(state)}")


def sensor_poke_interval(policy: PollPolicy, run_duration: Callable[[], float], timeout: float) -> float:
    """The adaptive wait before a sensor's next poke, never past its timeout."""
    return max(0.0, min(policy.interval(run_duration()), timeout - run_duration()))
