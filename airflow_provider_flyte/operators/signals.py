"""FlyteSignalOperator: answer a Flyte gate node (approve / wait_for_input) from Airflow.

``value`` is templated and rendered as a native value (like ``FlyteOperator`` inputs), so the
decision of an Airflow human-in-the-loop task feeds it directly, e.g.
``value="{{ ti.xcom_pull(task_ids='review')['chosen_options'] == ['Approve'] }}"``. It is
converted to the signal's Flyte type before anything is sent; a value of the wrong type fails the
task with the signal, the type expected and the value given. Answering again with the same value
(a retry) is a no-op; with another value it is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, XComArg

from airflow_provider_flyte import waiting
from airflow_provider_flyte.exceptions import FlyteProviderError
from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.operators.templating import RendersNativeFields

if TYPE_CHECKING:
    from airflow.sdk import Context


class FlyteSignalOperator(RendersNativeFields, waiting.FlyteWaiter, BaseOperator):
    template_fields: Sequence[str] = ("execution_name", "project", "domain", "signal_id", "value")
    native_template_fields: Sequence[str] = ("value",)
    ui_color = "#fdf2d0"

    def __init__(
        self,
        *,
        execution_name: str | XComArg,
        signal_id: str,
        value: Any,
        project: str | None = None,
        domain: str | None = None,
        flyte_conn_id: str = FlyteHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.execution_name = execution_name
        self.signal_id = signal_id
        self.value = value
        self.project = project
        self.domain = domain
        self.flyte_conn_id = flyte_conn_id

    def execute(self, context: Context) -> None:
        if not isinstance(self.execution_name, str) or not self.execution_name:
            raise FlyteProviderError(
                f"FlyteSignalOperator {self.task_id!r}: execution_name must render to a non-empty string, "
                f"got {self.execution_name!r}"
            )
        project, domain = self._where()
        self.hook.set_signal(project, domain, self.execution_name, self.signal_id, self.value)
