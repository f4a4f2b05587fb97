"""Calls to a Flyte 2 endpoint over Connect: RunService, TaskService, DataProxyService.

flyteidl2 ships Connect stubs (``*_connect.py``) with a sync and an async client; this wraps them
with the connection's timeout, authorization header (``auth``) and retries (``retry``), addressed
by RPC name (``client.call("GetRunDetails", request)``). ``call_unless`` turns the answers a
caller expects (NOT_FOUND, ALREADY_EXISTS) into None instead of an exception. The sync client
serves the hook in a task; the async one serves the triggerer, one per connection per event loop
(``pool``).

What a call does is written once (``_exchange``, as Flyte 1's ``hooks/calls`` writes each admin
call once): the two clients only drive it, one blocking and one with ``await``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
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
    "GetTaskDetails": ("tasks", "get_task_details"),
    "ListVersions": ("tasks", "list_versions"),
    "GetActionData": ("data", "get_action_data"),
    "RunGetActionData": ("runs", "get_action_data"),
}


def _stubs(url: str, sync: bool) -> dict[str, Any]:
    from flyteidl2.dataproxy import dataproxy_service_connect
    from flyteidl2.task import task_service_connect
    from flyteidl2.workflow import run_service_connect

    if sync:
        return {
            "runs": run_service_connect.RunServiceClientSync(url),
            "tasks": task_service_connect.TaskServiceClientSync(url),
            "data": dataproxy_service_connect.DataProxyServiceClientSync(url),
        }
    return {
        "runs": run_service_connect.RunServiceClient(url),
        "tasks": task_service_connect.TaskServiceClient(url),
        "data": dataproxy_service_connect.DataProxyServiceClient(url),
    }


# One try of a call, as a conversation with its driver: it yields HEADERS to get the authorization
# metadata (from the token source), or the metadata to send the request with (the answer comes
# back, or the error is thrown in), and returns the answer.
HEADERS = object()
Exchange = Generator[object, Any, Any]


def _exchange(tokens: TokenSource) -> Exchange:
    """Send with the current token; when the server refuses it (expired, revoked), drop it (only if
    no other call has replaced it yet) and send once more with the new one."""
    sent = yield HEADERS
    try:
        return (yield sent)
    except Exception as err:
        if code_name(err) != "UNAUTHENTICATED" or not tokens.refreshable:
            raise
        tokens.invalidate(sent)
    return (yield (yield HEADERS))


def _step(exchange: Exchange, answer: Any, error: BaseException | None) -> tuple[bool, Any]:
    """Resume the exchange: (True, its result) once it returns, else (False, what it yields next)."""
    try:
        return False, exchange.throw(error) if error is not None else exchange.send(answer)
    except StopIteration as done:
        return True, done.value


def _expected(err: Exception, codes: tuple[str, ...]) -> bool:
    return code_name(err) in codes


class _Base:
    def __init__(self, config: Flyte2ConnectionConfig, sync: bool) -> None:
        self.config = config
        self._stubs = _stubs(config.url, sync)
        self.tokens = TokenSource(config)

    def _prepare(self, rpc: str, timeout: float | None, retries: int | None) -> tuple[Callable[..., Any], float, int, dict[str, Any]]:
        """The stub method, the deadline in seconds and ms, and the retry policy of one call."""
        service, method = RPCS[rpc]
        seconds = timeout or self.config.timeout
        tries = self.config.retries if retries is None else retries
        return getattr(self._stubs[service], method), seconds, int(seconds * 1000), retry_policy(rpc, tries)


class Flyte2Client(_Base):
    """The blocking client: one per hook."""

    def __init__(self, config: Flyte2ConnectionConfig) -> None:
        super().__init__(config, sync=True)

    def _drive(self, stub: Callable[..., Any], request: Any, seconds: float, timeout_ms: int) -> Any:
        exchange = _exchange(self.tokens)
        done, step = _step(exchange, None, None)
        while not done:
            answer, error = None, None
            try:
                if step is HEADERS:
                    answer = self.tokens.metadata(seconds)
                else:
                    answer = stub(request, headers=dict(step), timeout_ms=timeout_ms)
            except Exception as err:
                error = err
            done, step = _step(exchange, answer, error)
        return step

    def call(self, rpc: str, request: Any, *, timeout: float | None = None, retries: int | None = None) -> Any:
        stub, seconds, timeout_ms, policy = self._prepare(rpc, timeout, retries)
        for attempt in tenacity.Retrying(**policy):
            with attempt:
                return self._drive(stub, request, seconds, timeout_ms)
        raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises

    def call_unless(self, rpc: str, request: Any, *codes: str, **budget: Any) -> Any | None:
        try:
            return self.call(rpc, request, **budget)
        except Exception as err:
            if _expected(err, codes):
                return None
            raise

    def close(self) -> None:
        for stub in self._stubs.values():
            stub.close()


class AsyncFlyte2Client(_Base):
    """The event loop's client: shared by every trigger of a connection in the loop (``pool``)."""

    def __init__(self, config: Flyte2ConnectionConfig) -> None:
        super().__init__(config, sync=False)

    async def _drive(self, stub: Callable[..., Any], request: Any, seconds: float, timeout_ms: int) -> Any:
        exchange = _exchange(self.tokens)
        done, step = _step(exchange, None, None)
        while not done:
            answer, error = None, None
            try:
                if step is HEADERS:
                    answer = await self.tokens.ametadata(seconds)
                else:
                    answer = await stub(request, headers=dict(step), timeout_ms=timeout_ms)
            except Exception as err:
                error = err
            done, step = _step(exchange, answer, error)
        return step

    async def call(self, rpc: str, request: Any, *, timeout: float | None = None, retries: int | None = None) -> Any:
        stub, seconds, timeout_ms, policy = self._prepare(rpc, timeout, retries)
        async for attempt in tenacity.AsyncRetrying(**policy):
            with attempt:
                return await self._drive(stub, request, seconds, timeout_ms)
        raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises

    async def call_unless(self, rpc: str, request: Any, *codes: str, **budget: Any) -> Any | None:
        try:
            return await self.call(rpc, request, **budget)
        except Exception as err:
            if _expected(err, codes):
                return None
            raise

    async def close(self) -> None:
        for stub in self._stubs.values():
            await stub.close()
