"""One poll of FlyteAdmin for executions that ended since a cursor, as event payloads in order.

A poll lists the query's executions changed since ``cursor.after - lookback``, oldest change
first, page by page, and yields ``(payload, cursor)`` for each execution not emitted before, the
cursor being where the feed stands once that payload is delivered; it ends with ``(None,
cursor)``, the position after everything it examined (executions it skipped included), so a
quiet feed still moves on. The caller stores a cursor only once what came before it is safe.

The list trims error messages to 100 bytes, so a failed execution is read whole with
GetExecution; outputs come from GetExecutionData, read off the event loop (a large map is a blob).
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.events.cursor import Cursor
from airflow_provider_flyte.events.payload import FlyteExecutionEvent, small_outputs
from airflow_provider_flyte.events.query import EventQuery

if TYPE_CHECKING:
    from airflow_provider_flyte.hooks.admin_client import AsyncAdminClient

DEFAULT_LOOKBACK = datetime.timedelta(minutes=10)
DEFAULT_MAX_OUTPUT_BYTES = 2048


class ExecutionFeed:
    def __init__(
        self,
        client: AsyncAdminClient,
        query: EventQuery,
        lookback: datetime.timedelta = DEFAULT_LOOKBACK,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    ) -> None:
        self._client = client
        self._query = query
        self._lookback = lookback
        self._max_output_bytes = max_output_bytes

    async def poll(self, cursor: Cursor) -> AsyncIterator[tuple[dict[str, Any] | None, Cursor]]:
        since = cursor.list_from(self._lookback)
        token = ""
        while True:
            page = await self._client.call("ListExecutions", self._query.list_request(since, token))
            for execution in page.executions:
                name = execution.id.name
                updated = execution.closure.updated_at.ToDatetime(tzinfo=datetime.timezone.utc)
                if cursor.has_emitted(name) or not self._query.wants(execution.spec.labels.values):
                    cursor = cursor.examined(updated, self._lookback)
                    continue
                event = await self._event(execution)
                cursor = cursor.examined(updated, self._lookback, emitted=name)
                yield event.payload(), cursor
            token = page.token
            if not token:
                break
        yield None, cursor

    async def _event(self, execution: Any) -> FlyteExecutionEvent:
        from airflow_provider_flyte.hooks import admin_messages as m
        from airflow_provider_flyte.hooks import calls

        i, config = execution.id, self._client.config
        state = m.state_from_execution(execution, config.execution_url(i.project, i.domain, i.name))
        if state.error_kind:
            state = await calls.find_execution(config, i.project, i.domain, i.name).arun(self._client) or state
        outputs: dict[str, Any] = {}
        omitted: tuple[str, ...] = ()
        if state.phase == "SUCCEEDED":
            data = await calls.execution_data(i.project, i.domain, i.name).arun(self._client)
            outputs, omitted = small_outputs(await asyncio.to_thread(_outputs_json, data), self._max_output_bytes)
        lp = execution.spec.launch_plan
        entity = {
            "kind": "task" if lp.resource_type == m.TASK else "launch_plan",
            "project": lp.project,
            "domain": lp.domain,
            "name": lp.name,
            "version": lp.version,
        }
        finished = execution.closure.updated_at.ToDatetime(tzinfo=datetime.timezone.utc).isoformat()
        return FlyteExecutionEvent(state, entity, finished, outputs, omitted)


def _outputs_json(data: Any) -> dict[str, Any]:
    from airflow_provider_flyte.hooks.literals import literal_map_to_json, resolve_data

    return literal_map_to_json(resolve_data(data)[1])
