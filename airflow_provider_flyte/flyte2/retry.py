"""Which Flyte 2 (Connect) errors are worth another try, and the backoff between tries.

The same rule as Flyte 1's (``hooks/retry``), in Connect's codes: UNAVAILABLE (which connectrpc
also raises when nothing answers), DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED are faults, retried
with bounded exponential backoff up to the connection's ``retries``; INTERNAL and UNKNOWN only
for reads (a write that failed inside the server may have happened). NOT_FOUND,
INVALID_ARGUMENT, PERMISSION_DENIED, UNAUTHENTICATED... are answers and go to the caller at once.
A token endpoint that is unreachable or answers 5xx/429 is a fault too.
"""

from __future__ import annotations

import logging
from typing import Any

import tenacity

log = logging.getLogger(__name__)

TRANSIENT = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED"})
TRANSIENT_FOR_READS = frozenset({"INTERNAL", "UNKNOWN"})
# The reads of ``client.RPCS``.
READS = frozenset({"GetRunDetails", "ListRuns", "GetTaskDetails", "ListVersions", "GetActionData", "RunGetActionData"})
MAX_BACKOFF = 10.0


def code_name(error: BaseException) -> str:
    """A Connect error's code (``NOT_FOUND``), or "" for anything else."""
    code = getattr(error, "code", None)
    name = getattr(code, "name", None)
    return name if isinstance(name, str) and type(error).__name__ == "ConnectError" else ""


def is_transient(rpc: str, error: BaseException) -> bool:
    import httpx

    from airflow_provider_flyte.exceptions import FlyteTokenEndpointUnavailable

    if isinstance(error, (httpx.TransportError, FlyteTokenEndpointUnavailable)):
        return True
    code = code_name(error)
    return code in TRANSIENT or (code in TRANSIENT_FOR_READS and rpc in READS)


def describe(error: BaseException) -> str:
    code = code_name(error)
    return f"{code}: {error}" if code else (str(error) or type(error).__name__)


def retry_policy(rpc: str, retries: int, initial_backoff: float = 0.5) -> dict[str, Any]:
    """Keyword arguments for ``tenacity.Retrying`` / ``AsyncRetrying``: one policy, two runtimes."""

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "Flyte 2 %s failed with %s (attempt %d); retrying in %.1fs",
            rpc,
            describe(error) if error else "?",
            state.attempt_number,
            state.next_action.sleep if state.next_action else 0.0,
        )

    return {
        "stop": tenacity.stop_after_attempt(retries + 1),
        "wait": tenacity.wait_exponential(multiplier=initial_backoff, min=initial_backoff, max=MAX_BACKOFF),
        "retry": tenacity.retry_if_exception(lambda e: is_transient(rpc, e)),
        "reraise": True,
        "before_sleep": before_sleep,
    }
