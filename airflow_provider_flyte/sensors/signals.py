"""FlyteSignalSensor: wait until a Flyte execution pauses on a gate node, and say which.

It succeeds when the execution waits for a signal (``signal_id``, or any), pushing it as XCom
(``PendingSignal.to_xcom()``: project, domain, execution, signal_id, kind, type, node_id) for an
Airflow human-in-the-loop task and ``FlyteSignalOperator`` downstream. It fails, with the Flyte
error, if the execution ends before it gets there. It never answers or stops the execution.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue, XComArg

from airflow_provider_flyte import waiting
from airflow_provider_flyte.compat import AirflowSensorTimeout, conf
from airflow_provider_flyte.exceptions import FlyteProviderError, FlyteWaitError, state_message
from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.waiting import Deadline

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flyte.signals.pending import PendingSignal


class FlyteSignalSensor(waiting.FlyteWaiter, BaseSensorOperator):
    template_fields: Sequence[str] = ("execution_name", "project", "domain", "signal_id")
    ui_color = "#fdf2d0"

    def __init__(
        self,
        *,
        execution_name: str | XComArg,
        signal_id: str | None = None,
        project: str | None = None,
        domain: str | None = None,
        flyte_conn_id: str = FlyteHook.default_conn_name,
        poke_interval: float | datetime.timedelta = 10.0,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.deferrable = deferrable
        self.execution_name = execution_name
        self.signal_id = signal_id
        self.project = project
        self.domain = domain
        self.flyte_conn_id = flyte_conn_id

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        found = self.poke(context)
        if isinstance(found, PokeReturnValue):
            return found.xcom_value
        from airflow_provider_flyte.triggers.signals import FlyteSignalTrigger

        project, domain = self._where()
        self.defer(
            trigger=FlyteSignalTrigger(
                conn_id=self.flyte_conn_id,
                project=project,
                domain=domain,
                name=self._name(),
                signal_id=self.signal_id,
                poll_interval=self.poke_interval,
                deadline=Deadline.after(self.timeout).at,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: Any) -> Any:
        """The trigger saw a gate (read again here, with its node) or the execution's end."""
        from airflow_provider_flyte.triggers.signals import SignalTriggerEvent

        ended = SignalTriggerEvent.parse(event)
        if ended.status == "timeout":
            raise AirflowSensorTimeout(f"no gate of Flyte execution {self._name()} within {self.timeout}s")
        if ended.status == "error":
            raise FlyteWaitError(ended.message)
        found = self.poke(context)
        if not isinstance(found, PokeReturnValue):
            raise FlyteWaitError(f"Flyte execution {self._name()} no longer waits for signal {ended.signal_id!r}")
        return found.xcom_value

    def poke(self, context: Context) -> PokeReturnValue | bool:
        from airflow_provider_flyte.hooks.retry import is_transient

        name = self._name()
        project, domain = self._where()
        state = waiting.observe(self.hook, project, domain, name, self.log)
        if state is None:
            return False
        try:
            pending = self.hook.pending_signals(project, domain, name)
        except Exception as err:
            if not is_transient("ListSignals", err):
                raise
            self.log.warning("FlyteAdmin unreachable while looking for the gates of %s (%s); will ask again", name, err)
            return False
        found = self._wanted(pending)
        if found is not None:
            self.log.info("%s %s; answer it in Flyte or from Airflow - console: %s", state.describe(), found.describe(), state.url)
            return PokeReturnValue(is_done=True, xcom_value=found.to_xcom())
        if state.is_terminal:
            wanted = f"signal {self.signal_id!r}" if self.signal_id else "a signal"
            raise FlyteWaitError(f"ended before waiting for {wanted}: {state_message(state)}")
        return False

    def _wanted(self, pending: list[PendingSignal]) -> PendingSignal | None:
        return next((p for p in pending if self.signal_id in (None, p.signal_id)), None)

    def _name(self) -> str:
        if not isinstance(self.execution_name, str) or not self.execution_name:
            raise FlyteProviderError(
                f"FlyteSignalSensor {self.task_id!r}: execution_name must render to a non-empty string, "
                f"got {self.execution_name!r}"
            )
        return self.execution_name
