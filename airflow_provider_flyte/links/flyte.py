"""The "Flyte Execution" button on the task instance page.

The operator pushes the console URL under this link's XCom key right after launching, so the
button works while the task is still waiting, not only after it ends. At the end of the task
Airflow asks ``get_link`` again and stores its answer under the same key: we return what was
pushed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey


class FlyteExecutionLink(BaseOperatorLink):
    name = "Flyte Execution"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        return XCom.get_value(ti_key=ti_key, key=self.xcom_key) or ""

    @classmethod
    def persist(cls, context: Any, url: str) -> None:
        context["ti"].xcom_push(key=cls().xcom_key, value=url)
