"""Which FlyteAdmin errors are worth another try, and how long to wait between tries.

Shared by the sync and async clients. Transient codes are retried with exponential backoff up to
the connection's ``retries``; permanent ones (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS,
FAILED_PRECONDITION, PERMISSION_DENIED...) are answers, not faults, and go straight to the caller.
INTERNAL is retried only for reads: a write that failed inside the server may have happened.

A FlyteAdmin that never answered is not retried by the client: it is probed and what is wrong
is raised at once (``reachability``, ``FlyteAdminUnreachable``). Waits still treat the findings
that look like an outage (nothing listening, no answer) as transient and ask again later, so a
triggerer that starts while the admin is down waits it out.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc
import tenacity

log = logging.getLogger(__name__)

TRANSIENT_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}
)
READ_METHODS = frozenset(
    {
        "GetVersion",
        "GetExecution",
        "GetExecutionData",
        "ListExecutions",
        "GetLaunchPlan",
        "GetActiveLaunchPlan",
        "ListLaunchPlans",
        "GetTask",
        "ListTasks",
        "GetWorkflow",
        "ListNodeExecutions",
        "GetNodeExecutionData",
        "ListSignals",
    }
)
MAX_BACKOFF = 10.0


def status_code(error: BaseException) -> grpc.StatusCode | None:
    return error.code() if isinstance(error, grpc.RpcError) else None


def is_transient(method: str, error: BaseException) -> bool:
    """Transient gRPC codes, failures to reach the token endpoint (network, 5xx, 429), and an
    unreachable FlyteAdmin when that may be an outage rather than a misconfiguration."""
    import httpx

    from airflow_provider_flyte.exceptions import FlyteAdminUnreachable, FlyteTokenEndpointUnavailable

    if isinstance(error, FlyteAdminUnreachable):
        return error.outage_possible
    if isinstance(error, (httpx.TransportError, FlyteTokenEndpointUnavailable)):
        return True
    code = status_code(error)
    return code in TRANSIENT_CODES or (code is grpc.StatusCode.INTERNAL and method in READ_METHODS)


def _retried(method: str, error: BaseException) -> bool:
    """What the client itself retries: transient errors, except a diagnosed unreachable admin
    (retrying would only probe the same wrong endpoint again)."""
    from airflow_provider_flyte.exceptions import FlyteAdminUnreachable

    return not isinstance(error, FlyteAdminUnreachable) and is_transient(method, error)


def _log_retry(method: str):
    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "FlyteAdmin %s failed with %s (attempt %d); retrying in %.1fs",
            method,
            status_code(error) if error else "?",
            state.attempt_number,
            state.next_action.sleep if state.next_action else 0.0,
        )

    return before_sleep


def retry_policy(method: str, retries: int, initial_backoff: float = 0.5) -> dict[str, Any]:
    """Keyword arguments for ``tenacity.Retrying`` / ``AsyncRetrying``: one policy, two runtimes."""
    return {
        "stop": tenacity.stop_after_attempt(retries + 1),
        "wait": tenacity.wait_exponential(multiplier=initial_backoff, min=initial_backoff, max=MAX_BACKOFF),
        "retry": tenacity.retry_if_exception(lambda e: _retried(method, e)),
        "reraise": True,
        "before_sleep": _log_retry(method),
    }
