"""One FlyteAdmin client per connection per event loop, shared by everything waiting in it.

A slow or rate-limited identity provider used to take the triggerer down with it: a thousand
triggers meant a thousand channels and a thousand token requests. Here the users of a connection
in one loop share one channel and one token source (single-flight), and the last user to leave
closes the client. gRPC's asyncio channels belong to the loop that made them, so there is one
pool per loop (``dag.test()`` and pytest-asyncio run a loop per trigger; the triggerer one).

The connection is read at most once a minute per connection: an edit (a rotated secret) reaches
new waits within that time, while waits already running keep the client they started with.

``SharedClientPool`` is that mechanism with the connection reader and the client factory left
open; Flyte 1's ``ClientPool`` here and Flyte 2's ``Flyte2ClientPool`` fill them in.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from airflow_provider_flyte.hooks.connection import FlyteConnectionConfig

if TYPE_CHECKING:
    from typing_extensions import Self

    from airflow_provider_flyte.hooks.admin_client import AsyncAdminClient
    from airflow_provider_flyte.watcher.executions import ExecutionWatcher

CONFIG_TTL = 60.0


class PooledClient(Protocol):
    """What the pool needs of a client: the config it was made from, and a way to close it."""

    @property
    def config(self) -> Any: ...

    async def close(self) -> None: ...


ConfigT = TypeVar("ConfigT", bound=Hashable)
ClientT = TypeVar("ClientT", bound=PooledClient)


@dataclass
class _Shared(Generic[ClientT]):
    client: ClientT
    users: int = 0
    # What lives as long as the client and is shared with it (Flyte 1: a watcher per project/domain).
    attached: dict[Any, Any] = field(default_factory=dict)


class SharedClientPool(Generic[ConfigT, ClientT]):
    """The shared clients of one event loop; get it with ``current()`` of a subclass.

    Subclasses say how a connection is read (``read_config``, without blocking the loop) and how
    a client is made of its config (``make_client``).
    """

    _pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._pools = weakref.WeakKeyDictionary()  # one pool per loop per kind of client

    def __init__(self) -> None:
        self._configs: dict[str, tuple[float, ConfigT]] = {}
        self._clients: dict[ConfigT, _Shared[ClientT]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def current(cls) -> Self:
        loop = asyncio.get_running_loop()
        pool = cls._pools.get(loop)
        if pool is None:
            pool = cls._pools[loop] = cls()
        return pool

    @property
    def open_clients(self) -> int:
        return len(self._clients)

    async def read_config(self, conn_id: str) -> ConfigT:
        raise NotImplementedError

    async def make_client(self, config: ConfigT) -> ClientT:
        raise NotImplementedError

    async def config(self, conn_id: str) -> ConfigT:
        cached = self._configs.get(conn_id)
        if cached is not None and time.monotonic() - cached[0] < CONFIG_TTL:
            return cached[1]
        async with self._locks.setdefault(conn_id, asyncio.Lock()):
            cached = self._configs.get(conn_id)
            if cached is None or time.monotonic() - cached[0] >= CONFIG_TTL:
                cached = self._configs[conn_id] = (time.monotonic(), await self.read_config(conn_id))
            return cached[1]

    async def _shared(self, conn_id: str) -> _Shared[ClientT]:
        config = await self.config(conn_id)
        shared = self._clients.get(config)
        if shared is not None:
            return shared
        async with self._locks.setdefault(conn_id, asyncio.Lock()):
            shared = self._clients.get(config)
            if shared is None:
                shared = self._clients[config] = _Shared(await self.make_client(config))
            return shared

    @contextlib.asynccontextmanager
    async def _use(self, conn_id: str) -> AsyncIterator[_Shared[ClientT]]:
        shared = await self._shared(conn_id)
        shared.users += 1
        try:
            yield shared
        finally:
            shared.users -= 1
            if shared.users == 0 and self._clients.get(shared.client.config) is shared:
                del self._clients[shared.client.config]
                await shared.client.close()

    @contextlib.asynccontextmanager
    async def client(self, conn_id: str) -> AsyncIterator[ClientT]:
        """The shared client of ``conn_id``, open until its last user leaves."""
        async with self._use(conn_id) as shared:
            yield shared.client


async def read_config(conn_id: str) -> FlyteConnectionConfig:
    """The connection as the triggerer must read it: without blocking the event loop."""
    from airflow_provider_flyte.compat import aget_connection
    from airflow_provider_flyte.hooks.flyte import config_from_connection

    conn, extra = await aget_connection(conn_id)
    return config_from_connection(conn, extra)


class ClientPool(SharedClientPool[FlyteConnectionConfig, "AsyncAdminClient"]):
    """The shared FlyteAdmin clients of one event loop; get it with ``ClientPool.current()``."""

    async def read_config(self, conn_id: str) -> FlyteConnectionConfig:
        return await read_config(conn_id)

    async def make_client(self, config: FlyteConnectionConfig) -> AsyncAdminClient:
        from airflow_provider_flyte.hooks.admin_client import AsyncAdminClient
        from airflow_provider_flyte.hooks.channels import channel_settings

        # insecure_skip_verify fetches the server certificate: not on the event loop.
        settings = await asyncio.to_thread(channel_settings, config)
        return AsyncAdminClient(config, settings)

    @contextlib.asynccontextmanager
    async def watcher(self, conn_id: str, project: str, domain: str) -> AsyncIterator[ExecutionWatcher]:
        """The one watcher of (connection, project, domain) in this loop, on the shared client."""
        from airflow_provider_flyte.watcher.executions import ExecutionWatcher

        async with self._use(conn_id) as shared:
            watcher = shared.attached.get((project, domain))
            if watcher is None:
                watcher = shared.attached[(project, domain)] = ExecutionWatcher(shared.client, project, domain)
            yield watcher
