"""Fault injection: make chosen RPCs fail, slow down or lose their response, or close the port.

Clients of FlyteAdmin (the provider, flytekit) must survive a flaky control plane; tests
need to provoke exactly that, on demand and deterministically. Faults are consumed in the
order they were queued, per RPC method name (e.g. "GetExecution"); "*" matches every method.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

import grpc

ANY_METHOD = "*"
_ADMIN = "/flyteidl.service.AdminService/"
LOST_RESPONSE_MESSAGE = "flyte-local-admin: response lost (the request was applied)"


@dataclass(frozen=True)
class _Failure:
    code: grpc.StatusCode
    message: str


@dataclass(frozen=True)
class _LostResponse:
    """Marker: run the handler, then answer UNAVAILABLE as if the reply never arrived."""


_Fault = _Failure | _LostResponse


class FaultInjector(grpc.ServerInterceptor):
    """The admin's `faults` attribute; also installed as a server interceptor."""

    def __init__(self, outage: Callable[[float], None], end_outage: Callable[[], None]) -> None:
        self._outage = outage
        self._end_outage = end_outage
        self._lock = threading.Lock()
        self._queued: dict[str, deque[_Fault]] = defaultdict(deque)
        self._latency: dict[str, float] = {}

    def fail_next(
        self, method: str, n: int = 1, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE, message: str = ""
    ) -> None:
        """The next `n` calls of `method` are answered `code` without reaching the admin."""
        failure = _Failure(code, message or f"flyte-local-admin: injected {code.name}")
        with self._lock:
            self._queued[method].extend([failure] * n)

    def lose_next_response(self, method: str, n: int = 1) -> None:
        """The next `n` calls of `method` take effect, but the caller gets UNAVAILABLE."""
        with self._lock:
            self._queued[method].extend([_LostResponse()] * n)

    def add_latency(self, method: str, seconds: float) -> None:
        """Every call of `method` waits `seconds` before being handled (0 removes the latency)."""
        with self._lock:
            if seconds > 0:
                self._latency[method] = seconds
            else:
                self._latency.pop(method, None)

    def outage(self, seconds: float) -> None:
        """Closes the port now and serves again on the same port after `seconds`; executions keep running."""
        self._outage(seconds)

    def clear(self) -> None:
        """Drops every queued fault and latency, and ends an outage in progress (serving again now)."""
        with self._lock:
            self._queued.clear()
            self._latency.clear()
        self._end_outage()

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None or not handler_call_details.method.startswith(_ADMIN):
            return handler  # a fault is only used up by a call it can apply to
        fault, latency = self._take(handler_call_details.method.rsplit("/", 1)[-1])
        if fault is None and not latency:
            return handler
        return grpc.unary_unary_rpc_method_handler(
            _faulty(handler.unary_unary, fault, latency),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _take(self, method: str) -> tuple[_Fault | None, float]:
        with self._lock:
            latency = self._latency.get(method, self._latency.get(ANY_METHOD, 0.0))
            for key in (method, ANY_METHOD):
                if self._queued.get(key):
                    return self._queued[key].popleft(), latency
            return None, latency


def _faulty(behaviour: Callable, fault: _Fault | None, latency: float) -> Callable:
    def handle(request, context: grpc.ServicerContext):
        if latency:
            time.sleep(latency)
        if isinstance(fault, _Failure):
            context.abort(fault.code, fault.message)
        response = behaviour(request, context)
        if isinstance(fault, _LostResponse):
            context.abort(grpc.StatusCode.UNAVAILABLE, LOST_RESPONSE_MESSAGE)
        return response

    return handle
