"""One FlyteAdmin client per connection per event loop, shared by everything waiting in it.

A slow or rate-limited identity provider used to take the triggerer down with it: a thousand
triggers meant a thousand channels and a thousand token requests. Here the users of a connection
in one loop share one channel and one token source (single-flight), and the last user to leave
closes the client. gRPC's asyncio channels belong to the loop that made them, so there is one
pool per loop (``dag.test()`` and pytest-asyncio run a loop per trigger; the triggerer one).

The connection is read at most once a minute per connection: an edit (a rotated secret) reaches
new waits within that time, while waits already running keep the client they started with.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_provider_flyte.hooks.connection import FlyteConnectionConfig

if TYPE_CHECKING:
    from airflow_provider_flyte.hooks.admin_client import AsyncAdminClient
    from airflow_provider_flyte.watcher.executions import ExecutionWatcher

CONFIG_TTL = 60.0


async def read_config(conn_id: str) -> FlyteConnectionConfig:
    """The connection as the triggerer must read it: without blocking the event loop."""
    from airflow_provider_flyte.compat import aget_connection
    from airflow_provider_flyte.hooks.flyte import config_from_connection

    conn, extra = await aget_connection(conn_id)
    return config_from_connection(conn, extra)


@dataclass
class _Shared:
    client: AsyncAdminClient
    users: int = 0
    watchers: dict[tuple[str, str], ExecutionWatcher] = field(default_factory=dict)


class ClientPool:
    """The shared clients of one event loop; get it with ``ClientPool.current()``."""

    _pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ClientPool] = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self._configs: dict[str, tuple[float, FlyteConnectionConfig]] = {}
        self._clients: dict[FlyteConnectionConfig, _Shared] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def current(cls) -> ClientPool:
        loop = asyncio.get_running_loop()
        pool = cls._pools.get(loop)
        if pool is None:
            pool = cls._pools[loop] = cls()
        return pool

    async def config(self, conn_id: str) -> FlyteConnectionConfig:
        cached = self._configs.get(conn_id)
        if cached is not None and time.monotonic() - cached[0] < CONFIG_TTL:
            return cached[1]
        async with self._locks.setdefault(conn_id, asyncio.Lock()):
            cached = self._configs.get(conn_id)
            if cached is None or time.monotonic() - cached[0] >= CONFIG_TTL:
                cached = self._configs[conn_id] = (time.monotonic(), await read_config(conn_id))
            return cached[1]

    async def _shared(self, conn_id: str) -> _Shared:
        config = await self.config(conn_id)
        shared = self._clients.get(config)
        if shared is not None:
            return shared
        async with self._locks.setdefault(conn_id, asyncio.Lock()):
            shared = self._clients.get(config)
            if shared is None:
                from airflow_provider_flyte.hooks.admin_client import AsyncAdminClient
                from airflow_provider_flyte.hooks.channels import channel_settings

                # insecure_skip_verify fetches the server certificate: not on the event loop.
                settings = await asyncio.to_thread(channel_settings, config)
                shared = self._clients[config] = _Shared(AsyncAdminClient(config, settings))
            return shared

    @contextlib.asynccontextmanager
    async def client(self, conn_id: str) -> AsyncIterator[AsyncAdminClient]:
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

    @contextlib.asynccontextmanager
    async def watcher(self, conn_id: str, project: str, domain: str) -> AsyncIterator[ExecutionWatcher]:
        """The one watcher of (connection, project, domain) in this loop, on the shared client."""
        from airflow_provider_flyte.watcher.executions import ExecutionWatcher

        async with self.client(conn_id) as client:
            shared = self._clients[client.config]
            watcher = shared.watchers.get((project, domain))
            if watcher is None:
                watcher = shared.watchers[(project, domain)] = ExecutionWatcher(client, project, domain)
            yield watcher
