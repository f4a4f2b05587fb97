"""One async Flyte 2 client per connection per event loop, shared by every wait in it.

The triggerer's pattern from Flyte 1 (``watcher/pool``): a thousand deferred runs of one
connection share one client (one HTTP connection pool, one OAuth2 token) instead of building a
thousand; the last user closes it. The connection is read at most once a minute, so an edit (a
rotated secret) reaches new waits within that time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_provider_flyte.flyte2.connection import Flyte2ConnectionConfig

if TYPE_CHECKING:
    from airflow_provider_flyte.flyte2.client import AsyncFlyte2Client

CONFIG_TTL = 60.0


async def read_config(conn_id: str) -> Flyte2ConnectionConfig:
    from airflow_provider_flyte.compat import aget_connection
    from airflow_provider_flyte.flyte2.hook import config_from_connection

    conn, extra = await aget_connection(conn_id)
    return config_from_connection(conn, extra)


@dataclass
class _Shared:
    client: AsyncFlyte2Client
    users: int = 0


class Flyte2ClientPool:
    """The shared clients of one event loop; get it with ``Flyte2ClientPool.current()``."""

    _pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Flyte2ClientPool] = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self._configs: dict[str, tuple[float, Flyte2ConnectionConfig]] = {}
        self._clients: dict[Flyte2ConnectionConfig, _Shared] = {}
        self._lock = asyncio.Lock()

    @classmethod
    def current(cls) -> Flyte2ClientPool:
        loop = asyncio.get_running_loop()
        pool = cls._pools.get(loop)
        if pool is None:
            pool = cls._pools[loop] = cls()
        return pool

    @property
    def open_clients(self) -> int:
        return len(self._clients)

    async def _shared(self, conn_id: str) -> _Shared:
        async with self._lock:
            cached = self._configs.get(conn_id)
            if cached is None or time.monotonic() - cached[0] >= CONFIG_TTL:
                cached = self._configs[conn_id] = (time.monotonic(), await read_config(conn_id))
            config = cached[1]
            shared = self._clients.get(config)
            if shared is None:
                from airflow_provider_flyte.flyte2.client import AsyncFlyte2Client

                shared = self._clients[config] = _Shared(AsyncFlyte2Client(config))
            return shared

    @contextlib.asynccontextmanager
    async def client(self, conn_id: str) -> AsyncIterator[AsyncFlyte2Client]:
        """The shared client of ``conn_id``, open until its last user leaves."""
        shared = await self._shared(conn_id)
        shared.users += 1
        try:
            yield shared.client
        finally:
            shared.users -= 1
            if shared.users == 0 and self._clients.get(shared.client.config) is shared:
                del self._clients[shared.client.config]
                await shared.client.close()
