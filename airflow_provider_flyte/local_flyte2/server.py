"""The service on one loopback port: the Connect apps behind one ASGI router, served by hypercorn.

hypercorn speaks HTTP/1.1 and HTTP/2 in cleartext (h2c) on the same port, so the Flyte 2 SDK's transport
(Connect over HTTP/1.1 to a plaintext endpoint) and gRPC clients (the gRPC protocol over h2c, which the
Connect apps also serve) both reach it, as they reach a real Flyte 2 control plane. Server streams
(WatchRunDetails, WatchActionDetails, TailLogs) end when the run does. The router answers ASGI lifespan:
startup tells the caller it serves, shutdown kills the task processes of runs still executing.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from flyteidl2.auth.auth_service_connect import AuthMetadataServiceASGIApplication
from flyteidl2.cluster.service_connect import ClusterServiceASGIApplication
from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyServiceASGIApplication
from flyteidl2.task.task_service_connect import TaskServiceASGIApplication
from flyteidl2.workflow.run_service_connect import RunServiceASGIApplication
from hypercorn.asyncio import serve
from hypercorn.config import Config

import airflow_provider_flyte.local_flyte2.auth as auth
from airflow_provider_flyte.local_flyte2.registry import TaskRegistry
from airflow_provider_flyte.local_flyte2.runs import RunStore
from airflow_provider_flyte.local_flyte2.services import (
    InputStore,
    LocalAuthMetadataService,
    LocalClusterService,
    LocalDataProxyService,
    LocalRunService,
    LocalTaskService,
)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class _Fault:
    remaining: int
    code: Code
    method: str | None
    message: str


@dataclass
class Faults:
    """Failures and latency tests ask for: the next ``n`` calls (of one method, or any) fail with a Connect
    code, and every call (of one method, or any) waits first. Set from the test's thread, read on the loop."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _failures: list[_Fault] = field(default_factory=list)
    _latency: dict[str | None, float] = field(default_factory=dict)

    def fail_next(self, n: int, code: Code, method: str | None = None, message: str = "injected failure") -> None:
        with self._lock:
            self._failures.append(_Fault(n, code, method, message))

    def set_latency(self, seconds: float, method: str | None = None) -> None:
        with self._lock:
            self._latency[method] = seconds

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()
            self._latency.clear()

    def take(self, method: str) -> tuple[float, ConnectError | None]:
        """The delay before ``method`` answers, and the failure it answers with (consuming one), if any."""
        with self._lock:
            delay = self._latency.get(method, self._latency.get(None, 0.0))
            for fault in self._failures:
                if fault.remaining > 0 and fault.method in (None, method):
                    fault.remaining -= 1
                    return delay, ConnectError(fault.code, fault.message)
            return delay, None


class FaultInterceptor:
    """Applies ``Faults`` before every unary call and server stream."""

    def __init__(self, faults: Faults) -> None:
        self._faults = faults

    async def _apply(self, ctx: RequestContext) -> None:
        delay, failure = self._faults.take(ctx.method().name)
        if delay:
            await asyncio.sleep(delay)
        if failure is not None:
            raise failure

    async def intercept_unary(self, call_next: Callable[[Any, RequestContext], Awaitable[Any]], request: Any, ctx: RequestContext) -> Any:
        await self._apply(ctx)
        return await call_next(request, ctx)

    async def intercept_server_stream(
        self, call_next: Callable[[Any, RequestContext], AsyncIterator[Any]], request: Any, ctx: RequestContext
    ) -> AsyncIterator[Any]:
        await self._apply(ctx)
        async for response in call_next(request, ctx):
            yield response


class Router:
    """One ASGI app for all services: a request goes to the Connect app whose service path it starts with."""

    def __init__(self, apps: list[Any], runs: RunStore, issuer: auth.TokenIssuer | None) -> None:
        self._apps: dict[str, ASGIApp] = {app.path: app for app in apps}
        self._runs = runs
        self._issuer = issuer
        self.started = threading.Event()  # set by the lifespan startup: the server accepts calls from then on

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path = scope.get("path", "")
        if self._issuer is not None and path == auth.TOKEN_PATH and scope.get("method") == "POST":
            await self._token(scope, receive, send)
            return
        app = self._apps.get("/" + path.strip("/").split("/")[0])
        if app is None:
            await _respond(send, 404, "text/plain", b"no such service\n")
            return
        await app(scope, receive, send)

    async def _token(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self._issuer is not None
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        status, answer = auth.token_response(self._issuer, headers, body)
        await _respond(send, status, "application/json", json.dumps(answer).encode())

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
                self.started.set()
            elif message["type"] == "lifespan.shutdown":
                await self._runs.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _respond(send: Send, status: int, content_type: str, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type.encode())]})
    await send({"type": "http.response.body", "body": body})


def build_app(
    registry: TaskRegistry,
    state_dir: Path,
    projects: set[str],
    faults: Faults,
    issuer: auth.TokenIssuer | None,
    parallelism: int,
) -> tuple[Router, RunStore]:
    """The ASGI app serving every service (behind the token check when ``issuer`` is given), and the run
    store behind it."""
    runs = RunStore(state_dir / "runs", parallelism)
    inputs = InputStore(state_dir / "inputs")
    interceptors: list[Any] = [FaultInterceptor(faults)]
    if issuer is not None:
        interceptors.insert(0, auth.AuthInterceptor(issuer))
    apps = [
        RunServiceASGIApplication(LocalRunService(registry, runs, inputs, projects), interceptors=interceptors),
        TaskServiceASGIApplication(LocalTaskService(registry), interceptors=interceptors),
        DataProxyServiceASGIApplication(LocalDataProxyService(runs, inputs), interceptors=interceptors),
        ClusterServiceASGIApplication(LocalClusterService(), interceptors=interceptors),
        AuthMetadataServiceASGIApplication(LocalAuthMetadataService(issuer), interceptors=interceptors),
    ]
    return Router(apps, runs, issuer), runs


def bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket first, so port 0 gives a real port before the server starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


class ServerThread:
    """hypercorn serving the app on an already bound socket, in a thread with an event loop of its own."""

    def __init__(self, app: Router, sock: socket.socket) -> None:
        self._app = app
        self._config = Config()
        # hypercorn takes the descriptor it is given as its own (and closes it): give it a duplicate.
        self._config.bind = [f"fd://{os.dup(sock.fileno())}"]
        self._config.accesslog = None
        self._config.loglevel = "WARNING"
        # A watch stream in flight holds its connection open; a second of grace, then the server stops anyway.
        self._config.graceful_timeout = 1.0
        self._loop = asyncio.new_event_loop()
        self._stopping = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="flyte2-local-service", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(serve(self._app, self._config, shutdown_trigger=self._stopping.wait))  # type: ignore[arg-type]
        finally:
            self._loop.close()

    def start(self, timeout: float = 30) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._app.started.wait(0.01):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the local Flyte 2 run service did not start")

    def stop(self, timeout: float = 30) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(timeout)
