"""FlyteSensor: wait for an existing Flyte execution (for instance one a FlyteOperator launched).

Poke, reschedule and deferrable modes share the phase table and exceptions of the operator. When
``poke_interval`` is not given the sensor follows the adaptive polling policy (soon at first,
backing off to 30 s) instead of Airflow's fixed 60 s; in reschedule mode it starts at 20 s
(``polling.RESCHEDULE_MIN_INTERVAL`` says why).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, XComArg

from airflow_provider_flyte import waiting
from airflow_provider_flyte.compat import conf
from airflow_provider_flyte.exceptions import FlyteProviderError
from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.phases import ExecutionState
from airflow_provider_flyte.polling import RESCHEDULE_MIN_INTERVAL, PollPolicy
from airflow_provider_flyte.waiting import Deadline

if TYPE_CHECKING:
    from airflow.sdk import Context


class FlyteSensor(waiting.FlyteWaiter, BaseSensorOperator):
    """Succeeds when the execution SUCCEEDED; fails (or skips, with ``soft_fail``) when it failed,
    timed out or was aborted."""

    template_fields: Sequence[str] = ("execution_name", "project", "domain")
    ui_color = "#f0e6fa"

    def __init__(
        self,
        *,
        execution_name: str | XComArg,
        project: str | None = None,
        domain: str | None = None,
        flyte_conn_id: str = FlyteHook.default_conn_name,
        push_outputs: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poke_interval: float | datetime.timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        self._adaptive = poke_interval is None
        super().__init__(poke_interval=PollPolicy().initial if poke_interval is None else poke_interval, **kwargs)
        self.execution_name = execution_name
        self.project = project
        self.domain = domain
        self.flyte_conn_id = flyte_conn_id
        self.push_outputs = push_outputs
        self.deferrable = deferrable

    def _name(self) -> str:
        """The execution to watch; an ``XComArg`` (``op.output``) has become its value by now."""
        if not isinstance(self.execution_name, str) or not self.execution_name:
            raise FlyteProviderError(
                f"FlyteSensor {self.task_id!r}: execution_name must render to a non-empty string, "
                f"got {self.execution_name!r}"
            )
        return self.execution_name

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):
            return None
        from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger

        project, domain = self._where()
        self.defer(
            trigger=FlyteExecutionTrigger(
                conn_id=self.flyte_conn_id,
                project=project,
                domain=domain,
                name=self._name(),
                poll_interval=None if self._adaptive else self.poke_interval,
                deadline=Deadline.after(self.timeout).at,
            ),
            method_name="execute_complete",
            kwargs={"expected": [project, domain, self._name()]},
        )

    def poke(self, context: Context) -> bool:
        project, domain = self._where()
        state = waiting.observe(self.hook, project, domain, self._name(), self.log)
        return waiting.sensor_poked(state, self.log, lambda s: self._conclude(context, s))

    def execute_complete(self, context: Context, event: Any, expected: list[str] | None = None) -> None:
        self._conclude(context, waiting.sensor_resumed(waiting.resume(event, expected, None), self.timeout))

    def _conclude(self, context: Context, state: ExecutionState) -> None:
        """A sensor never terminates what it watches; with ``soft_fail`` a bad ending skips."""
        waiting.sensor_soft_fail(state, self.soft_fail)
        waiting.conclude(state, self.log)
        if self.push_outputs:
            waiting.push_outputs(context, self.hook, state)

    def _get_next_poke_interval(
        self, started_at: datetime.datetime | float, run_duration: Callable[[], float], poke_count: int
    ) -> float:
        if not self._adaptive:
            return super()._get_next_poke_interval(started_at, run_duration, poke_count)
        policy = PollPolicy(initial=RESCHEDULE_MIN_INTERVAL) if self.reschedule else PollPolicy()
        return waiting.sensor_poke_interval(policy, run_duration, self.timeout)
