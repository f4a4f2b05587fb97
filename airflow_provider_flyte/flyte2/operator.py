"""Flyte2Operator: run a deployed Flyte 2 task from Airflow and wait for the run.

One deterministic run name per task instance (``naming``, at most 30 characters) makes every
try find the run its predecessors created, so a retry or a lost CreateRun response never creates
a second run. What a try does with what it finds:

=================  =====================================================================
found              this try
=================  =====================================================================
nothing            create the run (ALREADY_EXISTS from a lost response: adopt it)
waiting phase      reattach and wait (PAUSED included: the run is not over)
SUCCEEDED,         finish with its outputs; nothing is created
RECOVERED
FAILED/TIMED_OUT   run the task again as a new run under this try's name (``-r<try>``), with
                   the same task version and this try's inputs (rendered again for each try,
                   so a template of ``ti.try_number`` or of an upstream's XCom may give others);
                   the same for a run Airflow itself aborted (task killed or timed out: its
                   abort reason says so)
ABORTED            by anyone else: fail without running again or retrying (stopped on purpose)
=================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, XComArg

from airflow_provider_flyte import waiting as shared
from airflow_provider_flyte.compat import conf, degraded, task_instance_url
from airflow_provider_flyte.exceptions import FlyteWaitTimeout
from airflow_provider_flyte.flyte2 import waiting
from airflow_provider_flyte.flyte2.hook import Flyte2Hook
from airflow_provider_flyte.flyte2.link import Flyte2RunLink
from airflow_provider_flyte.flyte2.phases import RunState
from airflow_provider_flyte.labels import airflow_labels, check_owned
from airflow_provider_flyte.naming import attempt_name, execution_name
from airflow_provider_flyte.operators.templating import RendersNativeFields
from airflow_provider_flyte.phases import Outcome, airflow_abort_cause
from airflow_provider_flyte.polling import PollPolicy
from airflow_provider_flyte.stopping.records import stop_cause
from airflow_provider_flyte.waiting import Deadline

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flyte.flyte2.messages import RunOptions

RUN_NAME_MAX = 30
# First tries' names leave room for "-r<try>" (tries up to 99) so a retry's name keeps every
# character of the hash.
BASE_NAME_LENGTH = RUN_NAME_MAX - 4
# A task killed while its CreateRun is in flight finds no run yet: it looks again this long (every
# ON_KILL_LOOK_EVERY) for the run the server may still be creating, and aborts it when it appears.
ON_KILL_CREATE_GRACE = 5.0
ON_KILL_LOOK_EVERY = 0.25


def validate_run_name(name: str) -> str:
    """Fail before creating anything on a name Flyte 2 would refuse (a DNS-1035 label, <= 30)."""
    import re

    if len(name) > RUN_NAME_MAX or not re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", name):
        raise ValueError(
            f"run_name {name!r} is not a valid Flyte 2 run name: expected lower-case letters, digits and '-', "
            f"starting with a letter and ending with a letter or digit, at most {RUN_NAME_MAX} characters"
        )
    return name


def _check_owned(state: RunState, context: Context) -> None:
    check_owned(state.name, state.labels, context["ti"], what="Flyte 2 run", field="run_name")


class Flyte2Operator(RendersNativeFields, waiting.Flyte2Waiter, BaseOperator):
    """Run a deployed Flyte 2 task (by name; a given version or the newest) and wait for the run.

    Returns the run name (XCom ``return_value``), so ``Flyte2RunSensor(run_name=op.output)``
    works, and pushes the outputs as JSON values under XCom key ``outputs``.
    """

    template_fields: Sequence[str] = (
        "inputs", "run_name", "labels", "annotations", "envs", "version", "org", "project", "domain", "task_name",
    )
    native_template_fields: Sequence[str] = ("inputs",)
    operator_extra_links = (Flyte2RunLink(),)
    ui_color = "#dccbf2"

    def __init__(
        self,
        *,
        task_name: str,
        version: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        flyte2_conn_id: str = Flyte2Hook.default_conn_name,
        org: str | None = None,
        project: str | None = None,
        domain: str | None = None,
        run_name: str | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        envs: Mapping[str, str] | None = None,
        interruptible: bool | None = None,
        overwrite_cache: bool = False,
        cluster_pool: str = "",
        queue: str = "",
        wait_for_termination: bool = True,
        poll_interval: float | None = None,
        timeout: float | None = None,
        deferrable: bool | None = None,
        push_outputs: bool = True,
        abort_on_kill: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not task_name:
            raise ValueError(f"Flyte2Operator {self.task_id!r}: task_name is required")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"Flyte2Operator {self.task_id!r}: timeout must be positive seconds, got {timeout!r}")
        if deferrable and not wait_for_termination:
            raise ValueError(f"Flyte2Operator {self.task_id!r}: deferrable=True needs wait_for_termination=True")
        if deferrable is None:
            deferrable = wait_for_termination and conf.getboolean("operators", "default_deferrable", fallback=False)
        if inputs is not None and not isinstance(inputs, (Mapping, str, XComArg)):
            raise ValueError(
                f"Flyte2Operator {self.task_id!r}: inputs must be a dict (or a template / XComArg rendering to one), "
                f"got {type(inputs).__name__}"
            )
        if run_name and "{{" not in run_name:
            validate_run_name(run_name)
        PollPolicy(poll_interval)  # validates
        self.task_name = task_name
        self.version = version
        self.inputs = inputs or {}
        self.flyte2_conn_id = flyte2_conn_id
        self.org = org
        self.project = project
        self.domain = domain
        self.run_name = run_name
        self.labels = labels or {}
        self.annotations = annotations or {}
        self.envs = envs or {}
        self.interruptible = interruptible
        self.overwrite_cache = overwrite_cache
        self.cluster_pool = cluster_pool
        self.queue = queue
        self.wait_for_termination = wait_for_termination
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.deferrable = deferrable
        self.push_outputs = push_outputs
        self.abort_on_kill = abort_on_kill
        self._watching: tuple[str, str, str, str] | None = None
        self._create_sent: tuple[str, str, str, str] | None = None
        self._stop_cause = ""

    @cached_property
    def _policy(self) -> PollPolicy:
        return PollPolicy(self.poll_interval)

    # -- names and options ------------------------------------------------------------------------

    def _base_name(self, context: Context) -> str:
        if self.run_name:
            return validate_run_name(self.run_name)
        ti = context["ti"]
        map_index = ti.map_index if ti.map_index is not None else -1
        return execution_name(ti.dag_id, ti.run_id, ti.task_id, map_index, max_length=BASE_NAME_LENGTH)

    def _own_name(self, context: Context) -> str:
        return attempt_name(self._base_name(context), context["ti"].try_number, max_length=RUN_NAME_MAX)

    def _options(self, context: Context) -> RunOptions:
        from airflow_provider_flyte.flyte2.messages import RunOptions

        annotations = {k: str(v) for k, v in self.annotations.items()}
        if conf.get("api", "base_url", fallback=None):
            annotations.setdefault("airflow-task-instance-url", task_instance_url(context["ti"]))
        return RunOptions(
            labels={**{k: str(v) for k, v in self.labels.items()}, **airflow_labels(context["ti"])},
            annotations=annotations,
            envs={k: str(v) for k, v in self.envs.items()},
            interruptible=self.interruptible,
            overwrite_cache=self.overwrite_cache,
            cluster_pool=self.cluster_pool,
            queue=self.queue,
        )

    # -- starting ---------------------------------------------------------------------------------

    def _latest(self, org: str, project: str, domain: str, base: str, try_number: int) -> RunState | None:
        """The newest run of this task instance's chain (this try's name first)."""
        for attempt in range(max(try_number, 1), 0, -1):
            state = self.hook.find_run(org, project, domain, attempt_name(base, attempt, max_length=RUN_NAME_MAX))
            if state is not None:
                return state
        return None

    def _start(self, context: Context) -> RunState:
        """Create, reattach, adopt or run again, per the table in the module docstring."""
        org, project, domain = self._where()
        base = self._base_name(context)
        found = self._latest(org, project, domain, base, context["ti"].try_number)
        if found is None:
            state = self._create(context, org, project, domain, base)
        else:
            _check_owned(found, context)
            state = self._continue_from(context, org, found)
        _check_owned(state, context)
        self._track(context, org, state)
        return state

    def _continue_from(self, context: Context, org: str, found: RunState) -> RunState:
        own_name = self._own_name(context)
        reusable = found.outcome in (Outcome.WAITING, Outcome.SUCCEEDED) or (
            found.outcome is Outcome.ABORTED and not found.aborted_by_airflow
        )
        if reusable or found.name == own_name:
            self.log.info("Found from an earlier try, using it instead of creating a run: %s", found.summary())
            return found
        version = self._version_of(org, found)
        self.log.info("%s; running task %s again as run %s", found.describe(), self.task_name, own_name)
        return self._create(context, org, found.project, found.domain, own_name, version)

    def _version_of(self, org: str, found: RunState) -> str | None:
        """The task version the earlier run ran, so a retry reruns the same code (the newest
        version may have changed since)."""
        return self.hook.run_task_id(org, found.project, found.domain, found.name).version or self.version

    def _create(
        self, context: Context, org: str, project: str, domain: str, name: str, version: str | None = None
    ) -> RunState:
        task = self.hook.resolve_task(org, project, domain, self.task_name, version or self.version)
        if not isinstance(self.inputs, Mapping):
            raise ValueError(
                f"Flyte2Operator {self.task_id!r}: inputs must render to a dict, got {type(self.inputs).__name__}: {self.inputs!r}"
            )
        self._claim(context, org, project, domain, name)
        self._create_sent = (org, project, domain, name)
        state = self.hook.launch(task, org, project, domain, name, self.inputs, self._options(context))
        t = task.task_id
        self.log.info("Created run of task %s@%s: %s", t.name, t.version, state.summary())
        return state

    def _claim(self, context: Context, org: str, project: str, domain: str, name: str) -> None:
        """Before a run is created or waited for: killing the task (``on_kill``) aborts it."""
        if self._watching == (org, project, domain, name):
            return
        ti = context["ti"]
        self._watching = (org, project, domain, name)
        self._stop_cause = stop_cause(ti.dag_id, ti.task_id, ti.try_number, ti.run_id)

    def _track(self, context: Context, org: str, state: RunState) -> None:
        self._claim(context, org, state.project, state.domain, state.name)
        Flyte2RunLink.persist(context, state.url)

    # -- running ----------------------------------------------------------------------------------

    def execute(self, context: Context) -> str:
        try:
            state = self._start(context)
            if not self.wait_for_termination:
                return state.name
            return self._wait_and_finish(context, state, Deadline.after(self.timeout))
        finally:
            self.hook.close()  # also when deferring: the triggerer has its own client

    def _wait_and_finish(self, context: Context, state: RunState, deadline: Deadline) -> str:
        """Wait for ``state``'s run, and for the run that replaces it if an earlier try's kill
        lands on it meanwhile, all within this try's ``deadline``."""
        while True:
            if self.deferrable and not state.is_terminal:
                self._defer(context, state, deadline)
            state = waiting.wait(self.hook, state, self._policy, deadline, self.log)
            if not state.is_terminal:
                state = self._give_up(state)
            successor = self._successor(context, state)
            if successor is None:
                return self._finish(context, state)
            state = successor

    def _successor(self, context: Context, state: RunState) -> RunState | None:
        """A run this try reattached to may end ABORTED by an earlier try's kill (its on_kill
        landed after this try started): run the task again under this try's name instead of failing."""
        if state.aborted_by_airflow and state.name != self._own_name(context):
            successor = self._continue_from(context, state.org, state)
            self._track(context, state.org, successor)
            return successor
        return None

    def _defer(self, context: Context, state: RunState, deadline: Deadline) -> None:
        from airflow_provider_flyte.flyte2.trigger import Flyte2RunTrigger

        if self.abort_on_kill:
            degraded("flyte2-trigger-on-kill")  # before 3.3 no trigger on_kill aborts the deferred run
        self.defer(
            trigger=Flyte2RunTrigger(
                conn_id=self.flyte2_conn_id,
                org=state.org,
                project=state.project,
                domain=state.domain,
                name=state.name,
                poll_interval=self.poll_interval,
                deadline=deadline.at,
                kill_cause=self._stop_cause if self.abort_on_kill else "",
            ),
            method_name="execute_complete",
            kwargs={"expected": [state.project, state.domain, state.name], "deadline": deadline.at},
        )

    def execute_complete(
        self, context: Context, event: Any, expected: list[str] | None = None, deadline: float | None = None
    ) -> str:
        """Resume from the trigger with the run's final state (or the deadline's passing)."""
        try:
            resumed = waiting.resume(event, expected, deadline)
            s = resumed.state
            self._claim(context, s.org, s.project, s.domain, s.name)
            state = self._give_up(resumed.state) if resumed.deadline_passed else resumed.state
            successor = self._successor(context, state)
            if successor is None:
                return self._finish(context, state)
            return self._wait_and_finish(context, successor, resumed.deadline)
        finally:
            self.hook.close()

    def _give_up(self, state: RunState) -> RunState:
        """The operator's timeout expired: abort the run, unless it finished meanwhile."""
        org = state.org
        cause = airflow_abort_cause(f"task {self.dag_id}.{self.task_id} timed out after {self.timeout}s")
        if self.hook.abort(org, state.project, state.domain, state.name, cause):
            raise FlyteWaitTimeout(state.summary(f"; timeout of {self.timeout}s expired, aborting it"))
        return self.hook.get_run(org, state.project, state.domain, state.name)

    def _finish(self, context: Context, state: RunState) -> str:
        shared.conclude(state, self.log)
        if self.push_outputs:
            org = state.org
            context["ti"].xcom_push(key="outputs", value=self.hook.get_outputs(org, state.project, state.domain, state.name))
        return state.name

    def on_kill(self) -> None:
        """Killing the Airflow task aborts the Flyte 2 run it created or was waiting for, even
        one whose CreateRun was still in flight: when no run is found yet but its CreateRun was
        sent, it looks again for up to ``ON_KILL_CREATE_GRACE`` seconds and aborts the run when it
        appears (a run created after that is left going, and says so in the log).

        It uses a client of its own, closed when done: the task's may be in the middle of a call
        (SIGTERM interrupts it) or already closed (``execution_timeout`` kills after ``execute``)."""
        if not (self.abort_on_kill and self._watching):
            return
        org, project, domain, name = self._watching
        hook = self.hook.fresh()
        try:
            found = hook.find_run(org, project, domain, name)
            if found is None and self._create_sent == self._watching:
                found = self._created_meanwhile(hook, org, project, domain, name)
            if found is not None and hook.abort(org, project, domain, name, self._stop_cause):
                self.log.info("Aborted Flyte 2 run %s/%s/%s", project, domain, name)
        finally:
            hook.close()

    def _created_meanwhile(self, hook: Flyte2Hook, org: str, project: str, domain: str, name: str) -> RunState | None:
        import time

        give_up = time.monotonic() + ON_KILL_CREATE_GRACE
        while time.monotonic() < give_up:
            time.sleep(ON_KILL_LOOK_EVERY)
            found = hook.find_run(org, project, domain, name)
            if found is not None:
                return found
        self.log.warning(
            "Flyte 2 run %s/%s/%s was being created when the task was killed and did not appear within %ss; "
            "if it appears later it is not aborted", project, domain, name, ON_KILL_CREATE_GRACE,
        )
        return None
