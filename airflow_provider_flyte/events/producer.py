"""The acknowledged shared stream of an event trigger (Airflow 3.3+; imported only there).

One producer per trigger: it reads the cursor from the trigger's asset state store, runs the feed,
and stores a cursor only for events Airflow confirmed persisted (``stream`` says why).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Hashable, Sequence
from typing import Any

from airflow.triggers.shared_stream import AdvanceItem, SharedStreamProducer

from airflow_provider_flyte.events.cursor import Cursor
from airflow_provider_flyte.events.stream import (
    CURSOR_KEY,
    STORES,
    CursorStore,
    FeedSettings,
    delivered_prefix,
    events,
    load_cursor,
)

log = logging.getLogger(__name__)


class EventNotDelivered(RuntimeError):
    """Airflow did not confirm an event: the stream restarts from the stored cursor and sends it again."""


class CursorProducer(SharedStreamProducer):
    def __init__(self, key: Hashable, settings: FeedSettings) -> None:
        self._key = key
        self._settings = settings
        self._store: CursorStore | None = None
        self._stored: Cursor | None = None

    async def open_stream(self) -> AsyncIterator[tuple[Any, Any]]:
        self._store = await STORES.wait(self._key)
        self._stored = await load_cursor(self._store, self._settings)
        async for payload, cursor in events(self._settings, self._stored):
            yield payload, cursor

    async def advance(self, batch: Sequence[AdvanceItem]) -> None:
        cursor, whole = delivered_prefix(batch)
        if cursor is not None and cursor != self._stored and self._store is not None:
            await self._store.aset(CURSOR_KEY, cursor.to_json())
            self._stored = cursor
            log.debug("Stored the Flyte event cursor: %s", cursor.to_json())
        if not whole:
            raise EventNotDelivered(
                "Airflow did not confirm a Flyte execution event; the watcher starts again from its stored cursor"
            )
