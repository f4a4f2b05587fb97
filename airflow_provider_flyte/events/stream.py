"""The feed run forever with its stored cursor: what the event trigger runs in the triggerer.

Exactly once is a matter of when the cursor is stored. Stored before Airflow has the event, a
triggerer that dies in between loses the event; stored after, it may send it again. Airflow 3.3
says when its metadata database has an event: a trigger that runs an *acknowledged shared stream*
is told, per raw event, once the trigger events made from it are persisted. So on 3.3 the feed is
such a stream (one per trigger), and ``CursorProducer.advance`` stores the cursor of the last
event Airflow confirmed, in the watched asset's state store. What remains is the moment between
Airflow persisting an event and the cursor write that follows (about a second): a triggerer killed
exactly then sends that execution's event again after it restarts, never loses it.

Before 3.3 there is no confirmation and no asset state store: the cursor lives in the trigger,
starting when it starts (``compat.degraded("event-cursor")`` says so once).

Events are spaced (``event_spacing``) because of how Airflow's scheduler turns asset events into
runs (3.3.2, ``_create_dag_runs_asset_triggered``): the first event queues the DAG, and the run it
creates takes the events up to that moment; an event that arrives after the DAG was queued but
before its run exists joins no run until a later event queues the DAG again. Spaced by more than a
scheduler loop, each event starts a run of its own.

Polling faults: a transient one (FlyteAdmin or its identity provider unreachable) is waited out
with a growing pause and the next poll resumes from the last cursor; a permanent one (the launch
plan filter refused, no permission) ends the trigger with FlyteAdmin's message.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import AsyncIterator, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from airflow_provider_flyte.events.cursor import Cursor
from airflow_provider_flyte.events.feed import ExecutionFeed
from airflow_provider_flyte.events.query import EventQuery
from airflow_provider_flyte.exceptions import FlyteProviderError

log = logging.getLogger(__name__)

CURSOR_KEY = "flyte_execution_events"
_RETRY_INITIAL = 2.0
_RETRY_MAX = 60.0


class CursorStore(Protocol):
    """What the feed needs of Airflow's asset state store (``AssetStateStoreAccessors``)."""

    async def aget(self, key: str, default: Any = None) -> Any: ...

    async def aset(self, key: str, value: Any) -> None: ...


class MemoryStore:
    """A cursor kept only as long as the trigger runs (no asset state store on this Airflow)."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        self._values[key] = value


@dataclass(frozen=True)
class FeedSettings:
    conn_id: str
    query: EventQuery
    poll_interval: float
    lookback: datetime.timedelta
    max_output_bytes: int
    since: str | None = None
    event_spacing: float = 0.0

    def start(self) -> Cursor:
        """Where a feed without a stored cursor begins: ``since``, or now."""
        if self.since:
            at = datetime.datetime.fromisoformat(self.since)
            return Cursor.starting(at if at.tzinfo else at.replace(tzinfo=datetime.timezone.utc))
        return Cursor.starting(datetime.datetime.now(datetime.timezone.utc))


async def load_cursor(store: CursorStore, settings: FeedSettings) -> Cursor:
    """The stored cursor; on a first start the starting one, stored at once, so executions that end
    before the first event still count after a restart."""
    stored = await store.aget(CURSOR_KEY)
    if stored is not None:
        return Cursor.from_json(stored)
    cursor = settings.start()
    await store.aset(CURSOR_KEY, cursor.to_json())
    return cursor


async def events(settings: FeedSettings, cursor: Cursor) -> AsyncIterator[tuple[dict[str, Any] | None, Cursor]]:
    """Poll forever: ``(payload, cursor)`` per execution, ``(None, cursor)`` after each poll."""
    from airflow_provider_flyte.hooks.retry import is_transient
    from airflow_provider_flyte.watcher.pool import ClientPool

    failures = 0
    async with ClientPool.current().client(settings.conn_id) as client:
        feed = ExecutionFeed(client, settings.query, settings.lookback, settings.max_output_bytes)
        while True:
            try:
                async for payload, after in feed.poll(cursor):
                    cursor = after  # a failed poll resumes after the last execution it yielded
                    yield payload, after
                    if payload is not None:
                        # Moving past an event is what lets Airflow confirm it; at once, not after the pause.
                        yield None, after
                        await asyncio.sleep(settings.event_spacing)
            except Exception as err:
                if not is_transient("ListExecutions", err):
                    raise FlyteProviderError(
                        f"Watching Flyte executions of {settings.query.project}/{settings.query.domain} failed: {err}"
                    ) from err
                failures += 1
                pause = min(_RETRY_MAX, _RETRY_INITIAL * 2 ** (failures - 1))
                log.warning("FlyteAdmin unreachable while watching for ended executions (%s); again in %.0fs", err, pause)
            else:
                failures, pause = 0, settings.poll_interval
            await asyncio.sleep(pause)


class StoreRegistry:
    """Hands a trigger's asset state store to the producer of its stream: Airflow builds the
    producer from the trigger's kwargs only, while the store is set on the trigger instance."""

    def __init__(self) -> None:
        self._stores: dict[Hashable, asyncio.Future[CursorStore]] = {}

    def _future(self, key: Hashable) -> asyncio.Future[CursorStore]:
        loop = asyncio.get_running_loop()
        future = self._stores.get(key)
        if future is None or future.get_loop() is not loop:
            future = self._stores[key] = loop.create_future()
        return future

    def offer(self, key: Hashable, store: CursorStore) -> None:
        future = self._future(key)
        if future.done():
            future = self._stores[key] = asyncio.get_running_loop().create_future()
        future.set_result(store)

    def withdraw(self, key: Hashable, store: CursorStore) -> None:
        future = self._stores.get(key)
        if future is not None and future.done() and future.result() is store:
            del self._stores[key]

    async def wait(self, key: Hashable) -> CursorStore:
        return await self._future(key)


STORES = StoreRegistry()


def delivered_prefix(batch: Sequence[Any]) -> tuple[Cursor | None, bool]:
    """The cursor of the last item of an advance batch that Airflow confirmed, and whether the
    batch went through whole. An item nobody acknowledged (a failed or timed-out delivery, or one
    broadcast with no subscriber) stops it: the cursor must not pass an event Airflow lacks."""
    last: Cursor | None = None
    for item in batch:
        if not item.outcome.is_clean:
            return last, False
        last = item.broker_payload
    return last, True
