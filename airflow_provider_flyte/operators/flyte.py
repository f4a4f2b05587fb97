"""FlyteOperator: launch a Flyte launch plan or task from Airflow and wait for it.

One deterministic execution name per task instance (see ``naming``) makes every try find the
execution its predecessors started. What a try does with it is the retry table:

=================  =====================================================================
found              this try
=================  =====================================================================
nothing            launch (ALREADY_EXISTS from a lost response: adopt it)
waiting phase      reattach and wait
SUCCEEDED          finish with its outputs; no launch
FAILED/TIMED_OUT   recover it (``recover_on_retry``; only failed nodes rerun) or relaunch,
                   under this try's derived name; the same for an execution Airflow itself
                   aborted (task killed, timed out or cleared: its abort cause says so)
ABORTED            by anyone else: fail without relaunching or retrying (stopped on purpose)
=================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, XComArg

from airflow_provider_flyte import waiting
from airflow_provider_flyte.compat import conf, degraded, task_instance_url
from airflow_provider_flyte.exceptions import FlyteProviderError, FlyteWaitError, FlyteWaitTimeout
from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.labels import airflow_labels, check_owned
from airflow_provider_flyte.lineage import assets, openlineage
from airflow_provider_flyte.lineage.entity import FlyteEntity
from airflow_provider_flyte.links.flyte import FlyteExecutionLink
from airflow_provider_flyte.naming import (
    attempt_name,
    execution_name,
    validate_execution_name,
)
from airflow_provider_flyte.operators.templating import RendersNativeFields
from airflow_provider_flyte.phases import (
    AIRFLOW_ABORT_PREFIX,
    ExecutionState,
    Outcome,
    airflow_abort_cause,
)
from airflow_provider_flyte.polling import PollPolicy
from airflow_provider_flyte.stopping.records import XCOM_KEY as OWNED_EXECUTION_XCOM
from airflow_provider_flyte.stopping.records import OwnedExecution, stop_cause
from airflow_provider_flyte.waiting import Deadline

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flyte.hooks.admin_messages import LaunchOptions

# How long a try waits for an earlier try's termination (ABORTING) to finish before recovering.
ABORTING_BUDGET = 300.0


class FlyteOperator(RendersNativeFields, waiting.FlyteWaiter, BaseOperator):
    """Launch a Flyte launch plan (or a single task) with typed inputs and wait for it.

    Returns the execution name (XCom ``return_value``) so ``FlyteSensor(execution_name=op.output)``
    works, and pushes the outputs as JSON-friendly values under XCom key ``outputs``.
    """

    template_fields: Sequence[str] = (
        "inputs",
        "execution_name",
        "labels",
        "annotations",
        "envs",
        "version",
        "project",
        "domain",
        "launchplan_name",
        "task_name",
    )
    native_template_fields: Sequence[str] = ("inputs",)  # Python values for Flyte's type engine
    operator_extra_links = (FlyteExecutionLink(),)
    ui_color = "#e6d9f5"

    def __init__(
        self,
        *,
        flyte_conn_id: str = FlyteHook.default_conn_name,
        project: str | None = None,
        domain: str | None = None,
        launchplan_name: str | None = None,
        task_name: str | None = None,
        version: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        execution_name: str | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        envs: Mapping[str, str] | None = None,
        max_parallelism: int | None = None,
        raw_output_data_config: str | None = None,
        assumable_iam_role: str | None = None,
        kubernetes_service_account: str | None = None,
        oauth2_client: Mapping[str, Any] | None = None,
        secrets: Sequence[Mapping[str, Any]] | None = None,
        notifications: Sequence[Mapping[str, Any]] | None = None,
        disable_notifications: bool = False,
        overwrite_cache: bool | None = None,
        interruptible: bool | None = None,
        cluster_pool: str | None = None,
        wait_for_termination: bool = True,
        poll_interval: float | None = None,
        timeout: float | None = None,
        deferrable: bool | None = None,
        push_outputs: bool = True,
        recover_on_retry: bool = True,
        terminate_on_kill: bool = True,
        outlet_outputs: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if bool(launchplan_name) == bool(task_name):
            raise ValueError(
                f"FlyteOperator {self.task_id!r}: give exactly one of launchplan_name or task_name, "
                f"got launchplan_name={launchplan_name!r} and task_name={task_name!r}"
            )
        if timeout is not None and timeout <= 0:
            raise ValueError(f"FlyteOperator {self.task_id!r}: timeout must be positive seconds, got {timeout!r}")
        if deferrable and not wait_for_termination:
            raise ValueError(f"FlyteOperator {self.task_id!r}: deferrable=True needs wait_for_termination=True")
        if deferrable is None:  # the deployment-wide default applies only where there is a wait
            deferrable = wait_for_termination and conf.getboolean("operators", "default_deferrable", fallback=False)
        if inputs is not None and not isinstance(inputs, (Mapping, str, XComArg)):
            raise ValueError(
                f"FlyteOperator {self.task_id!r}: inputs must be a dict (or a template / XComArg rendering to one), "
                f"got {type(inputs).__name__}"
            )
        if outlet_outputs and not wait_for_termination:
            raise ValueError(
                f"FlyteOperator {self.task_id!r}: outlet_outputs={list(outlet_outputs)!r} needs wait_for_termination=True "
                "(outputs exist once the execution succeeded)"
            )
        if execution_name and "{{" not in execution_name:
            validate_execution_name(execution_name)
        PollPolicy(poll_interval)  # validates
        self.flyte_conn_id = flyte_conn_id
        self.project = project
        self.domain = domain
        self.launchplan_name = launchplan_name
        self.task_name = task_name
        self.version = version
        self.inputs = inputs or {}
        self.execution_name = execution_name
        self.labels = labels or {}
        self.annotations = annotations or {}
        self.envs = envs or {}
        self.max_parallelism = max_parallelism
        self.raw_output_data_config = raw_output_data_config
        self.assumable_iam_role = assumable_iam_role
        self.kubernetes_service_account = kubernetes_service_account
        self.oauth2_client = oauth2_client
        self.secrets = secrets or ()
        self.notifications = notifications or ()
        self.disable_notifications = disable_notifications
        self.overwrite_cache = overwrite_cache
        self.interruptible = interruptible
        self.cluster_pool = cluster_pool
        self.wait_for_termination = wait_for_termination
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.deferrable = deferrable
        self.push_outputs = push_outputs
        self.recover_on_retry = recover_on_retry
        self.terminate_on_kill = terminate_on_kill
        self.outlet_outputs = tuple(outlet_outputs)
        self._seen: ExecutionState | None = None  # the execution as last seen, for lineage
        self._watching: tuple[str, str, str] | None = None
        self._stop_cause = ""

    @cached_property
    def _policy(self) -> PollPolicy:
        return PollPolicy(self.poll_interval)

    # -- templating -------------------------------------------------------------------------------

    # -- launching ------------------------------------------------------------------------------

    def _options(self, context: Context) -> LaunchOptions:
        from airflow_provider_flyte.hooks.admin_messages import LaunchOptions

        annotations = dict(self.annotations)
        if conf.get("api", "base_url", fallback=None):
            annotations.setdefault("airflow-task-instance-url", task_instance_url(context["ti"]))
        return LaunchOptions(
            labels={**{k: str(v) for k, v in self.labels.items()}, **airflow_labels(context["ti"])},
            annotations={k: str(v) for k, v in annotations.items()},
            envs={**openlineage.parent_run_env(context["ti"]), **{k: str(v) for k, v in self.envs.items()}},
            max_parallelism=self.max_parallelism,
            raw_output_data_config=self.raw_output_data_config,
            assumable_iam_role=self.assumable_iam_role,
            kubernetes_service_account=self.kubernetes_service_account,
            oauth2_client=self.oauth2_client,
            secrets=tuple(self.secrets),
            notifications=tuple(self.notifications),
            disable_notifications=self.disable_notifications,
            overwrite_cache=self.overwrite_cache,
            interruptible=self.interruptible,
            cluster_pool=self.cluster_pool,
        )

    def _base_name(self, context: Context) -> str:
        if self.execution_name:
            return validate_execution_name(self.execution_name)
        ti = context["ti"]
        return execution_name(ti.dag_id, ti.run_id, ti.task_id, ti.map_index if ti.map_index is not None else -1)

    def _latest(self, project: str, domain: str, base: str, try_number: int) -> ExecutionState | None:
        """The newest execution of this task instance's chain (this try's name first)."""
        for attempt in range(max(try_number, 1), 0, -1):
            state = self.hook.find_execution(project, domain, attempt_name(base, attempt))
            if state is not None:
                return state
        return None

    def _own_name(self, context: Context) -> str:
        return attempt_name(self._base_name(context), context["ti"].try_number)

    def _start(self, context: Context) -> ExecutionState:
        """Launch, reattach, adopt, recover or relaunch, per the retry table in the module docstring."""
        project, domain = self._where()
        base = self._base_name(context)
        found = self._latest(project, domain, base, context["ti"].try_number)
        if found is None:
            state = self._launch(context, project, domain, base)
        else:
            check_owned(found.name, found.labels, context["ti"])
            if found.phase == "ABORTING" and found.abort_cause.startswith(AIRFLOW_ABORT_PREFIX):
                found = self._wait_for_abort(found)
            state = self._continue_from(context, found)
        check_owned(state.name, state.labels, context["ti"])
        self._track(context, state)
        return state

    def _wait_for_abort(self, found: ExecutionState) -> ExecutionState:
        """An earlier try's kill is still landing: let it finish (for a bounded time), then recover."""
        state = waiting.wait(self.hook, found, self._policy, Deadline.after(ABORTING_BUDGET), self.log)
        if not state.is_terminal:
            raise FlyteWaitError(
                f"{state.describe()} after {ABORTING_BUDGET:.0f}s: an earlier try's termination has not finished; "
                "this try gives up and a retry looks again"
            )
        return state

    def _track(self, context: Context, state: ExecutionState) -> None:
        """From now on, on_kill terminates this execution and the console link points at it."""
        self._seen = state
        self._claim(context, state.project, state.domain, state.name)
        FlyteExecutionLink.persist(context, state.url)

    def _claim(self, context: Context, project: str, domain: str, name: str) -> None:
        """Before an execution is created or waited for: this task instance owns it, so killing
        the task (``on_kill``) or stopping it from Airflow (``stopping/``) terminates it."""
        if self._watching == (project, domain, name):
            return
        ti = context["ti"]
        self._watching = (project, domain, name)
        self._stop_cause = stop_cause(ti.dag_id, ti.task_id, ti.try_number, ti.run_id)
        if self.terminate_on_kill and self.wait_for_termination:
            owned = OwnedExecution(self.flyte_conn_id, project, domain, name)
            ti.xcom_push(key=OWNED_EXECUTION_XCOM, value=owned.to_xcom())

    def _continue_from(self, context: Context, found: ExecutionState) -> ExecutionState:
        own_name = self._own_name(context)
        reusable = found.outcome in (Outcome.WAITING, Outcome.SUCCEEDED) or (
            found.outcome is Outcome.ABORTED and not found.aborted_by_airflow
        )
        if reusable or found.name == own_name:
            self.log.info("Found from an earlier try, using it instead of launching: %s", found.summary())
            return found
        self._claim(context, found.project, found.domain, own_name)
        if self.recover_on_retry:
            self.log.info("Recovering %s as %s: nodes that succeeded will not run again", found.name, own_name)
            return self.hook.recover(found.project, found.domain, found.name, own_name)
        self.log.info("Relaunching %s as %s", found.name, own_name)
        return self.hook.relaunch(found.project, found.domain, found.name, own_name)

    def _launch(self, context: Context, project: str, domain: str, name: str) -> ExecutionState:
        if self.launchplan_name:
            target = self.hook.resolve_launch_plan(project, domain, self.launchplan_name, self.version)
        else:
            target = self.hook.resolve_task(project, domain, str(self.task_name), self.version)
        if not isinstance(self.inputs, Mapping):
            raise ValueError(
                f"FlyteOperator {self.task_id!r}: inputs must render to a dict, got {type(self.inputs).__name__}: "
                f"{self.inputs!r}"
            )
        self._claim(context, project, domain, name)
        state = self.hook.launch(target, name, self.inputs, self._options(context))
        self.log.info("Launched %s: %s", target.describe(), state.summary())
        return state

    # -- running --------------------------------------------------------------------------------

    def execute(self, context: Context) -> str:
        state = self._start(context)
        if not self.wait_for_termination:
            return state.name
        return self._wait_and_finish(context, state, Deadline.after(self.timeout))

    def _wait_and_finish(self, context: Context, state: ExecutionState, deadline: Deadline) -> str:
        """Wait for ``state``'s execution and for any successor it is recovered into, all within
        ``deadline``: this try's ``timeout``, counted once from when the try began waiting."""
        while True:
            if self.deferrable and not state.is_terminal:
                self._defer(context, state, deadline)
            state = waiting.wait(self.hook, state, self._policy, deadline, self.log)
            if not state.is_terminal:
                state = self._give_up(state)
            successor = self._successor(context, state)
            if successor is None:
                return self._finish(context, state)
            self._track(context, successor)
            state = successor

    def _successor(self, context: Context, state: ExecutionState) -> ExecutionState | None:
        """An execution we reattached to may end ABORTED by an earlier try's kill (its on_kill
        landed after this try started): recover it under this try's name instead of failing."""
        if state.aborted_by_airflow and state.name != self._own_name(context):
            return self._continue_from(context, state)
        return None

    def _defer(self, context: Context, state: ExecutionState, deadline: Deadline) -> None:
        from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger

        if self.terminate_on_kill:
            degraded("trigger-on-kill")
        self.defer(
            trigger=FlyteExecutionTrigger(
                conn_id=self.flyte_conn_id,
                project=state.project,
                domain=state.domain,
                name=state.name,
                poll_interval=self.poll_interval,
                deadline=deadline.at,
                kill_cause=self._stop_cause if self.terminate_on_kill else "",
            ),
            method_name="execute_complete",
            kwargs={"expected": [state.project, state.domain, state.name], "deadline": deadline.at},
        )

    def execute_complete(
        self, context: Context, event: Any, expected: list[str] | None = None, deadline: float | None = None
    ) -> str:
        """Resume from the trigger. ``deadline`` is the try's; tasks deferred by 1.0.0.dev0 carry
        none, and a successor they recover gets a fresh ``timeout``."""
        resumed = waiting.resume(event, expected, deadline)
        state = self._give_up(resumed.state) if resumed.deadline_passed else resumed.state
        successor = self._successor(context, state)
        if successor is None:
            return self._finish(context, state)
        self._track(context, successor)
        remaining = resumed.deadline if resumed.deadline.at is not None else Deadline.after(self.timeout)
        return self._wait_and_finish(context, successor, remaining)

    def _give_up(self, state: ExecutionState) -> ExecutionState:
        """The operator's timeout expired: terminate, unless the execution finished meanwhile."""
        cause = airflow_abort_cause(f"task {self.dag_id}.{self.task_id} timed out after {self.timeout}s")
        if self.hook.terminate(state.project, state.domain, state.name, cause):
            raise FlyteWaitTimeout(state.summary(f"; timeout of {self.timeout}s expired, terminating it"))
        return self.hook.get_execution(state.project, state.domain, state.name)

    def _finish(self, context: Context, state: ExecutionState) -> str:
        self._seen = state
        waiting.conclude(state, self.log)
        outputs = waiting.push_outputs(context, self.hook, state) if self.push_outputs else None
        if self.outlets:
            self._record_asset_events(context, state, outputs)
        return state.name

    def _record_asset_events(self, context: Context, state: ExecutionState, outputs: dict[str, Any] | None) -> None:
        """Each outlet asset's event says which execution made it and carries ``outlet_outputs``."""
        from airflow.sdk import Asset

        if self.outlet_outputs and outputs is None:
            outputs = self.hook.get_outputs(state.project, state.domain, state.name)
        missing = [name for name in self.outlet_outputs if name not in (outputs or {})]
        if missing:
            raise FlyteProviderError(
                f"FlyteOperator {self.task_id!r}: outlet_outputs {missing} are not outputs of {state.name} "
                f"(its outputs: {sorted(outputs or {})})"
            )
        extra = assets.outlet_extra(state, {name: (outputs or {})[name] for name in self.outlet_outputs})
        for outlet in self.outlets:
            if isinstance(outlet, Asset):
                context["outlet_events"][outlet].extra.update(extra)

    # -- lineage (Airflow's OpenLineage provider calls these in the task's process) -----------------

    def _entity(self) -> FlyteEntity:
        project, domain = self._where()
        kind, name = ("launch_plan", self.launchplan_name) if self.launchplan_name else ("task", self.task_name)
        return FlyteEntity(kind, project, domain, str(name), self.version or "")

    def get_openlineage_facets_on_start(self) -> Any:
        return openlineage.on_start(self._entity())

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        return openlineage.on_end(self.hook, self._entity(), self._seen)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        return openlineage.on_end(self.hook, self._entity(), self._seen)

    def on_kill(self) -> None:
        """Killing the Airflow task stops the Flyte execution it launched or was waiting for,
        even one whose CreateExecution was still in flight."""
        if not (self.terminate_on_kill and self._watching):
            return
        project, domain, name = self._watching
        if self.hook.terminate(project, domain, name, self._stop_cause):
            self.log.info("Terminated Flyte execution %s/%s/%s", project, domain, name)
