"""Flyte2RunSensor: wait for an existing Flyte 2 run (one a Flyte2Operator created, or any other).

Poke, reschedule and deferrable modes share the operator's phase table and exceptions. Without
``poke_interval`` it follows the adaptive schedule (soon at first, backing off to 30 s) instead
of Airflow's fixed 60 s. A sensor never aborts what it watches.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, XComArg

from airflow_provider_flyte import waiting as shared
from airflow_provider_flyte.compat import conf
from airflow_provider_flyte.exceptions import FlyteProviderError
from airflow_provider_flyte.flyte2 import waiting
from airflow_provider_flyte.flyte2.hook import Flyte2Hook
from airflow_provider_flyte.flyte2.phases import RunState
from airflow_provider_flyte.polling import PollPolicy
from airflow_provider_flyte.waiting import Deadline

if TYPE_CHECKING:
    from airflow.sdk import Context


class Flyte2RunSensor(waiting.Flyte2Waiter, BaseSensorOperator):
    """Succeeds when the run SUCCEEDED (or RECOVERED); fails (or skips, with ``soft_fail``) when
    it failed, timed out or was aborted."""

    template_fields: Sequence[str] = ("run_name", "org", "project", "domain")
    ui_color = "#ece2f8"

    def __init__(
        self,
        *,
        run_name: str | XComArg,
        org: str | None = None,
        project: str | None = None,
        domain: str | None = None,
        flyte2_conn_id: str = Flyte2Hook.default_conn_name,
        push_outputs: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poke_interval: float | datetime.timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        self._adaptive = poke_interval is None
        super().__init__(poke_interval=PollPolicy().initial if poke_interval is None else poke_interval, **kwargs)
        self.run_name = run_name
        self.org = org
        self.project = project
        self.domain = domain
        self.flyte2_conn_id = flyte2_conn_id
        self.push_outputs = push_outputs
        self.deferrable = deferrable

    def _name(self) -> str:
        if not isinstance(self.run_name, str) or not self.run_name:
            raise FlyteProviderError(
                f"Flyte2RunSensor {self.task_id!r}: run_name must render to a non-empty string, got {self.run_name!r}"
            )
        return self.run_name

    def execute(self, context: Context) -> Any:
        try:
            return self._execute(context)
        finally:
            self.hook.close()  # every mode ends here: done, rescheduled or deferred

    def _execute(self, context: Context) -> Any:
        # No compat.degraded("flyte2-trigger-on-kill"): a sensor never aborts its run, so a trigger
        # that cannot call on_kill changes nothing for it.
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):
            return None
        from airflow_provider_flyte.flyte2.trigger import Flyte2RunTrigger

        org, project, domain = self._where()
        self.defer(
            trigger=Flyte2RunTrigger(
                conn_id=self.flyte2_conn_id,
                org=org,
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
        org, project, domain = self._where()
        state = waiting.observe(self.hook, org, project, domain, self._name(), self.log)
        return shared.sensor_poked(state, self.log, lambda s: self._conclude(context, s))

    def execute_complete(self, context: Context, event: Any, expected: list[str] | None = None) -> None:
        try:
            self._conclude(context, shared.sensor_resumed(waiting.resume(event, expected, None), self.timeout))
        finally:
            self.hook.close()

    def _conclude(self, context: Context, state: RunState) -> None:
        shared.sensor_soft_fail(state, self.soft_fail)
        shared.conclude(state, self.log)
        if self.push_outputs:
            outputs = self.hook.get_outputs(state.org, state.project, state.domain, state.name)
            context["ti"].xcom_push(key="outputs", value=outputs)

    def _get_next_poke_interval(
        self, started_at: datetime.datetime | float, run_duration: Callable[[], float], poke_count: int
    ) -> float:
        if not self._adaptive:
            return super()._get_next_poke_interval(started_at, run_duration, poke_count)
        return shared.sensor_poke_interval(PollPolicy(), run_duration, self.timeout)
