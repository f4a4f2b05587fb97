"""One async Flyte 2 client per connection per event loop, shared by every wait in it.

The triggerer's pattern from Flyte 1, and its code (``watcher.pool.SharedClientPool``): a
thousand deferred runs of one connection share one client (one HTTP connection pool, one OAuth2
token) instead of building a thousand; the last user closes it. The connection is read at most
once a minute, so an edit (a rotated secret) reaches new waits within that time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_flyte.flyte2.connection import Flyte2ConnectionConfig
from airflow_provider_flyte.watcher.pool import SharedClientPool

if TYPE_CHECKING:
    from airflow_provider_flyte.flyte2.client import AsyncFlyte2Client

async def read_config(conn_id: str) -> Flyte2ConnectionConfig:
    from airflow_provider_flyte.compat import aget_connection
    from airflow_provider_flyte.flyte2.hook import config_from_connection

    conn, extra = await aget_connection(conn_id)
    return config_from_connection(conn, extra)


class Flyte2ClientPool(SharedClientPool[Flyte2ConnectionConfig, "AsyncFlyte2Client"]):
    """The shared Flyte 2 clients of one event loop; get it with ``Flyte2ClientPool.current()``."""

    async def read_config(self, conn_id: str) -> Flyte2ConnectionConfig:
        return await read_config(conn_id)

    async def make_client(self, config: Flyte2ConnectionConfig) -> AsyncFlyte2Client:
        from airflow_provider_flyte.flyte2.client import AsyncFlyte2Client

        return AsyncFlyte2Client(config)
