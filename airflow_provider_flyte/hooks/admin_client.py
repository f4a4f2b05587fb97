"""The FlyteAdmin gRPC clients: a channel, the AdminService stub, auth metadata, deadlines, retries.

Two thin I/O shells, one blocking (workers) and one asyncio (the triggerer), around the same
channels (``channels``), token source (``auth``), retry policy (``retry``) and first-contact
diagnosis (``reachability``: a channel that never reached its admin fails at once, saying why);
what is not I/O (which answers are expected outcomes, when to refresh a token, when to probe) is
decided once, here and there.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import grpc
import tenacity
from flyteidl.service import admin_pb2_grpc, signal_pb2_grpc

from airflow_provider_flyte.hooks.auth import TokenSource
from airflow_provider_flyte.hooks.channels import ChannelSettings, async_channel, sync_channel
from airflow_provider_flyte.hooks.connection import FlyteConnectionConfig
from airflow_provider_flyte.hooks.reachability import FirstContact, probe
from airflow_provider_flyte.hooks.retry import retry_policy, status_code

# FlyteAdmin serves gate signals as a service of its own on the same port.
SIGNAL_METHODS = frozenset({"GetOrCreateSignal", "ListSignals", "SetSignal"})


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
        self._signal_stub = signal_pb2_grpc.SignalServiceStub(self._channel)
        self.tokens = TokenSource(config, self._channel)
        self.contact = FirstContact()
        self._probe_lock = threading.RLock()  # re-entrant: on_kill runs in a signal handler

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
        try:
            answer = self._exchange(method, request, timeout)
        except grpc.RpcError as err:
            if self.contact.needs_probe(err):
                self._diagnose(err)
            self.contact.saw(err)
            raise
        self.contact.saw()
        return answer

    def _diagnose(self, err: grpc.RpcError) -> None:
        """Raise what is wrong with an endpoint that never answered; return if nothing is."""
        with self._probe_lock:
            settled, finding = self.contact.settled()
            if not settled:
                finding = probe(self.config)
                self.contact.probed(finding)
        self.contact.conclude(self.config, finding, err)

    def _exchange(self, method: str, request: Any, timeout: float) -> Any:
        rpc = getattr(self._signal_stub if method in SIGNAL_METHODS else self._stub, method)
        sent = self.tokens.metadata(timeout)
        try:
            return rpc(request, timeout=timeout, metadata=sent)
        except grpc.RpcError as err:
            if not _refresh_and_retry(err, self.tokens, sent):
                raise
            return rpc(request, timeout=timeout, metadata=self.tokens.metadata(timeout))

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
        self._signal_stub = signal_pb2_grpc.SignalServiceStub(self._channel)
        self.tokens = TokenSource(config, self._channel)
        self.contact = FirstContact()
        self._probe_lock: asyncio.Lock | None = None

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
        try:
            answer = await self._exchange(method, request, timeout)
        except grpc.RpcError as err:
            if self.contact.needs_probe(err):
                await self._diagnose(err)
            self.contact.saw(err)
            raise
        self.contact.saw()
        return answer

    async def _diagnose(self, err: grpc.RpcError) -> None:
        """``AdminClient._diagnose`` off the event loop: the probe's blocking I/O runs in a thread,
        once for all the calls of this shared client that fail together."""
        if self._probe_lock is None:
            self._probe_lock = asyncio.Lock()
        async with self._probe_lock:
            settled, finding = self.contact.settled()
            if not settled:
                finding = await asyncio.to_thread(probe, self.config)
                self.contact.probed(finding)
        self.contact.conclude(self.config, finding, err)

    async def _exchange(self, method: str, request: Any, timeout: float) -> Any:
        rpc = getattr(self._signal_stub if method in SIGNAL_METHODS else self._stub, method)
        sent = await self.tokens.ametadata(timeout)
        try:
            return await rpc(request, timeout=timeout, metadata=sent)
        except grpc.RpcError as err:
            if not _refresh_and_retry(err, self.tokens, sent):
                raise
            return await rpc(request, timeout=timeout, metadata=await self.tokens.ametadata(timeout))

    async def close(self) -> None:
        await self._channel.close()
