"""FlyteExecutionEventTrigger: DAGs scheduled by Flyte executions that Airflow did not launch.

Put it in an ``AssetWatcher``; a DAG scheduled on that asset then runs once per Flyte execution
of a launch plan (or with given labels) that ends in one of ``phases``, whoever launched it (a
Flyte schedule, ``pyflyte run``, FlyteRemote, a notebook). Its event payload is
``events.payload.FlyteExecutionEvent``. How exactly-once is kept, across triggerer restarts and
while no triggerer runs, is in ``events.stream``; which executions count, in ``events.query``.

The kwargs are stored in Airflow's trigger table and are part of the trigger's identity (Airflow
hashes them): only identifiers and numbers, no credentials (the connection is read in the
triggerer), and their meaning does not change between versions.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator, Hashable, Mapping, Sequence
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_provider_flyte.compat import degraded
from airflow_provider_flyte.events.feed import DEFAULT_LOOKBACK, DEFAULT_MAX_OUTPUT_BYTES
from airflow_provider_flyte.events.query import EventQuery
from airflow_provider_flyte.events.stream import STORES, CursorStore, FeedSettings, MemoryStore, events, load_cursor

__all__ = ["FlyteExecutionEventTrigger"]

DEFAULT_POLL_INTERVAL = 10.0
DEFAULT_EVENT_SPACING = 2.0


class FlyteExecutionEventTrigger(BaseEventTrigger):
    """One event per Flyte execution that ends in ``phases``.

    :param conn_id: the ``flyte`` connection.
    :param project: Flyte project to watch.
    :param domain: Flyte domain to watch.
    :param launch_plan: only executions of this launch plan (a single-task execution runs a launch
        plan named after its task); all of the project and domain if unset.
    :param labels: only executions carrying all of these labels.
    :param phases: terminal phases that make an event: ``SUCCEEDED`` (default), ``FAILED``,
        ``TIMED_OUT``, ``ABORTED``.
    :param include_airflow_launched: also executions launched by ``FlyteOperator`` (our labels
        say which). Off by default: those already have their task, and its ``outlets`` emit asset
        events; a DAG that launches the launch plan it is scheduled on would trigger itself forever.
    :param poll_interval: seconds between looks at FlyteAdmin.
    :param since: ISO-8601 time to start from the first time the watcher runs (e.g. to catch up
        on earlier executions); default: when it first runs. Later starts resume from the cursor.
    :param lookback: seconds of late-arriving phase changes tolerated (see ``events.cursor``).
    :param max_output_bytes: outputs larger than this (as JSON) are left out of the event.
    :param event_spacing: seconds between two events, so that Airflow's scheduler starts a run for
        each (see ``events.stream``); 0 sends them as fast as they are found, and a DAG then gets
        several in one run's ``triggering_asset_events``.
    """

    def __init__(
        self,
        project: str,
        domain: str,
        launch_plan: str | None = None,
        labels: Mapping[str, str] | None = None,
        phases: Sequence[str] | None = None,
        include_airflow_launched: bool = False,
        conn_id: str = "flyte_default",
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        since: str | None = None,
        lookback: float = DEFAULT_LOOKBACK.total_seconds(),
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
        event_spacing: float = DEFAULT_EVENT_SPACING,
    ) -> None:
        super().__init__()
        self.query = EventQuery.of(project, domain, launch_plan, labels, phases, include_airflow_launched)
        if not conn_id:
            raise ValueError("FlyteExecutionEventTrigger: 'conn_id' must name a flyte connection")
        if poll_interval <= 0 or min(lookback, max_output_bytes, event_spacing) < 0:
            raise ValueError(
                "FlyteExecutionEventTrigger: 'poll_interval' must be positive, 'lookback', 'max_output_bytes' and "
                f"'event_spacing' not negative; got {poll_interval}, {lookback}, {max_output_bytes}, {event_spacing}"
            )
        if since is not None:
            datetime.datetime.fromisoformat(since)  # a wrong time fails in the DAG file, not in the triggerer
        self.conn_id = conn_id
        self.poll_interval = float(poll_interval)
        self.since = since
        self.lookback = float(lookback)
        self.max_output_bytes = int(max_output_bytes)
        self.event_spacing = float(event_spacing)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "project": self.query.project,
                "domain": self.query.domain,
                "launch_plan": self.query.launch_plan or None,
                "labels": dict(self.query.labels),
                "phases": list(self.query.phases),
                "include_airflow_launched": self.query.include_airflow_launched,
                "conn_id": self.conn_id,
                "poll_interval": self.poll_interval,
                "since": self.since,
                "lookback": self.lookback,
                "max_output_bytes": self.max_output_bytes,
                "event_spacing": self.event_spacing,
            },
        )

    def settings(self) -> FeedSettings:
        return FeedSettings(
            self.conn_id,
            self.query,
            self.poll_interval,
            datetime.timedelta(seconds=self.lookback),
            self.max_output_bytes,
            self.since,
            self.event_spacing,
        )

    # -- Airflow 3.3+: an acknowledged shared stream of its own, the cursor in the asset state store --

    def shared_stream_key(self) -> Hashable | None:
        classpath, kwargs = self.serialize()
        return (classpath, json.dumps(kwargs, sort_keys=True))

    @classmethod
    def create_shared_stream_producer(cls, kwargs: dict[str, Any]) -> Any:
        from airflow_provider_flyte.events.producer import CursorProducer

        trigger = cls(**kwargs)
        return CursorProducer(trigger.shared_stream_key(), trigger.settings())

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[TriggerEvent]:
        key = self.shared_stream_key()
        store: CursorStore
        if self.asset_state_store is None:  # not watching an asset: nowhere to keep the cursor across restarts
            self.log.warning("FlyteExecutionEventTrigger runs outside an AssetWatcher; its cursor is not kept")
            store = MemoryStore()
        else:
            store = self.asset_state_store
        STORES.offer(key, store)
        try:
            async for payload in shared_stream:
                if payload is not None:  # None: a poll ended; passing it lets Airflow confirm what came before
                    yield TriggerEvent(payload)
        finally:
            STORES.withdraw(key, store)

    # -- before Airflow 3.3: a plain trigger loop, the cursor in memory --

    async def run(self) -> AsyncIterator[TriggerEvent]:
        degraded("event-cursor")
        settings = self.settings()
        async for payload, _ in events(settings, await load_cursor(MemoryStore(), settings)):
            if payload is not None:
                yield TriggerEvent(payload)
