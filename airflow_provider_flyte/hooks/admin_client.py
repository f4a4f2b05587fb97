"""The FlyteAdmin gRPC clients: a channel, the AdminService stub, auth metadata, deadlines, retries.

Two thin I/O shells, one blocking (workers) and one asyncio (the triggerer), around the same
channels (``channels``), token source (``auth``) and retry policy (``retry``); what is not I/O
(which answers are expected outcomes, when to refresh a token) is decided once, here.
"""

from __future__ import annotations

from typing import Any

import grpc
import tenacity
from flyteidl.service import admin_pb2_grpc

from airflow_provider_flyte.hooks.auth import TokenSource
from airflow_provider_flyte.hooks.channels import ChannelSettings, async_channel, sync_channel
from airflow_provider_flyte.hooks.connection import FlyteConnectionConfig
from airflow_provider_flyte.hooks.retry import retry_policy, status_code


def _expected(err: grpc.RpcError, codes: tuple[str, ...]) -> bool:
    """Permanent answers that are outcomes, not errors: no such execution, already exists..."""
    return any(status_code(err) is grpc.StatusCode[code] for code in codes)


def _refresh_and_retry(err: grpc.RpcError, tokens: TokenSource, sent: tuple[tuple[str, str], ...]) -> bool:
    """A refused token is refreshed once (it may have been revoked or expired early)."""
    if status_code(err) is grpc.StatusCode.UNAUTHENTICATED and tokens.refreshable:
        tokens.invalidate(sent)
        return True
    return False


class AdminClient:
    """Blocking client: every call has a deadline, transient failures are retried."""

    def __init__(self, config: FlyteConnectionConfig) -> None:
        self.config = config
        self._channel = sync_channel(config)
        self._stub = admin_pb2_grpc.AdminServiceStub(self._channel)
        self.tokens = TokenSource(config, self._channel)

    def call(self, method: str, request: Any, *, timeout: float | None = None, retries: int | None = None) -> Any:
        """``timeout`` and ``retries`` override the connection's for this call (``on_kill`` is in a hurry)."""
        policy = retry_policy(method, self.config.retries if retries is None else retries)
        for attempt in tenacity.Retrying(**policy):
            with attempt:
                return self._call_once(method, request, timeout or self.config.timeout)
        raise AssertionError("unreachable: tenacity reraises")

    def call_unless(
        self, method: str, request: Any, *codes: str, timeout: float | None = None, retries: int | None = None
    ) -> Any | None:
        """``call``, except that an answer with one of ``codes`` (e.g. "NOT_FOUND") returns None."""
        try:
            return self.call(method, request, timeout=timeout, retries=retries)
        except grpc.RpcError as err:
            if _expected(err, codes):
                return None
            raise

    def _call_once(self, method: str, request: Any, timeout: float) -> Any:
        rpc = getattr(self._stub, method)
        sent = self.tokens.metadata()
        try:
            return rpc(request, timeout=timeout, metadata=sent)
        except grpc.RpcError as err:
            if not _refresh_and_retry(err, self.tokens, sent):
                raise
            return rpc(request, timeout=timeout, metadata=self.tokens.metadata())

    def close(self) -> None:
        self._channel.close()


class AsyncAdminClient:
    """asyncio client for triggers: same credentials, tokens and retry policy as AdminClient.

    Built from ``ChannelSettings`` computed off the event loop (``insecure_skip_verify`` fetches
    the server certificate over the network).
    """

    def __init__(self, config: FlyteConnectionConfig, settings: ChannelSettings) -> None:
        self.config = config
        self._channel = async_channel(config, settings)
        self._stub = admin_pb2_grpc.AdminServiceStub(self._channel)
        self.tokens = TokenSource(config, self._channel)

    async def call(self, method: str, request: Any, *, timeout: float | None = None, retries: int | None = None) -> Any:
        policy = retry_policy(method, self.config.retries if retries is None else retries)
        async for attempt in tenacity.AsyncRetrying(**policy):
            with attempt:
                return await self._call_once(method, request, timeout or self.config.timeout)
        raise AssertionError("unreachable: tenacity reraises")

    async def call_unless(
        self, method: str, request: Any, *codes: str, timeout: float | None = None, retries: int | None = None
    ) -> Any | None:
        try:
            return await self.call(method, request, timeout=timeout, retries=retries)
        except grpc.RpcError as err:
            if _expected(err, codes):
                return None
            raise

    async def _call_once(self, method: str, request: Any, timeout: float) -> Any:
        rpc = getattr(self._stub, method)
        sent = await self.tokens.ametadata()
        try:
            return await rpc(request, timeout=timeout, metadata=sent)
        except grpc.RpcError as err:
            if not _refresh_and_retry(err, self.tokens, sent):
                raise
            return await rpc(request, timeout=timeout, metadata=await self.tokens.ametadata())

    async def close(self) -> None:
        await self._channel.close()
