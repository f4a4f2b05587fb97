"""Calls to a Flyte 2 endpoint over Connect: RunService, TaskService, DataProxyService.

flyteidl2 ships Connect stubs (``*_connect.py``) with a sync and an async client; this wraps them
with the connection's timeout, authorization header and retries (``retry``), addressed by RPC
name (``client.call("GetRunDetails", request)``). ``call_unless`` turns the answers a caller
expects (NOT_FOUND, ALREADY_EXISTS) into None instead of an exception. The sync client serves the
hook in a task; the async one serves the triggerer, one per connection per event loop (``pool``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import tenacity

from airflow_provider_flyte.flyte2.auth import TokenSource
from airflow_provider_flyte.flyte2.connection import Flyte2ConnectionConfig
from airflow_provider_flyte.flyte2.retry import code_name, retry_policy

# RPC name -> (service, stub method)
RPCS: dict[str, tuple[str, str]] = {
    "CreateRun": ("runs", "create_run"),
    "AbortRun": ("runs", "abort_run"),
    "GetRunDetails": ("runs", "get_run_details"),
    "ListRuns": ("runs", "list_runs"),
    "GetActionDetails": ("runs", "get_action_details"),
    "ListActions": ("runs", "list_actions"),
    "GetTaskDetails": ("tasks", "get_task_details"),
    "ListVersions": ("tasks", "list_versions"),
    "GetActionData": ("data", "get_action_data"),
    "RunGetActionData": ("runs", "get_action_data"),
    "GetOAuth2Metadata": ("auth", "get_o_auth2_metadata"),
}


def _stubs(url: str, sync: bool) -> dict[str, Any]:
    from flyteidl2.auth import auth_service_connect
    from flyteidl2.dataproxy import dataproxy_service_connect
    from flyteidl2.task import task_service_connect
    from flyteidl2.workflow import run_service_connect

    if sync:
        return {
            "runs": run_service_connect.RunServiceClientSync(url),
            "tasks": task_service_connect.TaskServiceClientSync(url),
            "data": dataproxy_service_connect.DataProxyServiceClientSync(url),
            "auth": auth_service_connect.AuthMetadataServiceClientSync(url),
        }
    return {
        "runs": run_service_connect.RunServiceClient(url),
        "tasks": task_service_connect.TaskServiceClient(url),
        "data": dataproxy_service_connect.DataProxyServiceClient(url),
        "auth": auth_service_connect.AuthMetadataServiceClient(url),
    }


class _Base:
    def __init__(self, config: Flyte2ConnectionConfig, sync: bool) -> None:
        self.config = config
        self._stubs = _stubs(config.url, sync)
        self.tokens = TokenSource(config, self._discover_token_url)

    def _discover_token_url(self) -> str:
        """The token endpoint the server advertises (blocking: the async client calls the token
        source on a thread)."""
        from flyteidl2.auth import auth_service_connect, auth_service_pb2

        from airflow_provider_flyte.exceptions import FlyteConnectionError

        with auth_service_connect.AuthMetadataServiceClientSync(self.config.url) as auth:
            try:
                metadata = auth.get_o_auth2_metadata(
                    auth_service_pb2.GetOAuth2MetadataRequest(), timeout_ms=int(self.config.timeout * 1000)
                )
            except Exception as err:
                raise FlyteConnectionError(
                    f"Connection {self.config.conn_id!r} has no 'token_url' and {self.config.url} does not advertise "
                    f"a token endpoint ({err}); set the token_url extra"
                ) from err
        return str(metadata.token_endpoint)

    def _budget(self, timeout: float | None, retries: int | None) -> tuple[int, int]:
        return int((timeout or self.config.timeout) * 1000), self.config.retries if retries is None else retries


class Flyte2Client(_Base):
    """The blocking client: one per hook."""

    def __init__(self, config: Flyte2ConnectionConfig) -> None:
        super().__init__(config, sync=True)

    def call(self, rpc: str, request: Any, *, timeout: float | None = None, retries: int | None = None) -> Any:
        service, method = RPCS[rpc]
        timeout_ms, tries = self._budget(timeout, retries)
        stub = getattr(self._stubs[service], method)
        for attempt in tenacity.Retrying(**retry_policy(rpc, tries)):
            with attempt:
                try:
                    return stub(request, headers=self.tokens.headers(), timeout_ms=timeout_ms)
                except Exception as err:
                    if code_name(err) != "UNAUTHENTICATED" or not self.tokens.needed:
                        raise
                    self.tokens.invalidate()  # an expired or revoked token: once more with a new one
                    return stub(request, headers=self.tokens.headers(), timeout_ms=timeout_ms)
        raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises

    def call_unless(self, rpc: str, request: Any, *codes: str, **budget: Any) -> Any | None:
        try:
            return self.call(rpc, request, **budget)
        except Exception as err:
            if code_name(err) in codes:
                return None
            raise

    def close(self) -> None:
        for stub in self._stubs.values():
            stub.close()


class AsyncFlyte2Client(_Base):
    """The event loop's client: shared by every trigger of a connection in the loop (``pool``)."""

    def __init__(self, config: Flyte2ConnectionConfig) -> None:
        super().__init__(config, sync=False)

    async def _headers(self) -> dict[str, str]:
        if not self.tokens.needed:
            return self.tokens.headers()
        return await asyncio.to_thread(self.tokens.headers)  # a token fetch blocks: off the loop

    async def call(self, rpc: str, request: Any, *, timeout: float | None = None, retries: int | None = None) -> Any:
        service, method = RPCS[rpc]
        timeout_ms, tries = self._budget(timeout, retries)
        stub = getattr(self._stubs[service], method)
        async for attempt in tenacity.AsyncRetrying(**retry_policy(rpc, tries)):
            with attempt:
                try:
                    return await stub(request, headers=await self._headers(), timeout_ms=timeout_ms)
                except Exception as err:
                    if code_name(err) != "UNAUTHENTICATED" or not self.tokens.needed:
                        raise
                    self.tokens.invalidate()
                    return await stub(request, headers=await self._headers(), timeout_ms=timeout_ms)
        raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises

    async def call_unless(self, rpc: str, request: Any, *codes: str, **budget: Any) -> Any | None:
        try:
            return await self.call(rpc, request, **budget)
        except Exception as err:
            if code_name(err) in codes:
                return None
            raise

    async def close(self) -> None:
        for stub in self._stubs.values():
            await stub.close()
