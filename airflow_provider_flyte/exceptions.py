"""Exceptions the provider raises, one per way a Flyte execution can end badly.

Distinct classes let users write ``on_failure_callback`` logic (or retry policies) per cause.
An abort is an ``AirflowFailException``: a person or system stopped the execution on purpose,
so Airflow must not retry and relaunch it.
"""

from __future__ import annotations

from airflow_provider_flyte.compat import AirflowException, AirflowFailException
from airflow_provider_flyte.phases import ExecutionState, Outcome


class FlyteProviderError(AirflowException):
    """Misuse or an unexpected answer: a bug to fix rather than a Flyte outcome."""


class FlyteInputError(FlyteProviderError, ValueError):
    """An input cannot be given to the Flyte entity; raised before anything is launched."""


class FlyteEntityNotFound(FlyteProviderError, LookupError):
    """The launch plan, task or execution named does not exist on the FlyteAdmin."""


class FlyteConnectionError(FlyteProviderError, ValueError):
    """The Airflow connection cannot describe a FlyteAdmin endpoint."""


class FlyteTokenEndpointUnavailable(FlyteConnectionError):
    """The identity provider answered 5xx/429: a transient fault, retried like UNAVAILABLE."""


class FlyteAdminUnreachable(FlyteConnectionError):
    """A connection whose FlyteAdmin never answered, and why: raised at once instead of retrying.

    ``problem`` says what is wrong in words ("nothing listens on 127.0.0.1:30081", "the server
    answered in plaintext"), ``fix`` the likely remedy; the gRPC (or socket) error is the
    ``__cause__``. ``outage_possible`` is true when the same symptom is what a FlyteAdmin that is
    down looks like (nothing listening, no answer, DNS failing for now): a wait treats those as
    an outage to wait out, everything else (TLS against plaintext, an untrusted certificate, an
    unknown host) as a mistake to report.
    """

    def __init__(self, conn_id: str, endpoint: str, problem: str, fix: str, *, outage_possible: bool = False) -> None:
        self.conn_id = conn_id
        self.endpoint = endpoint
        self.problem = problem
        self.fix = fix
        self.outage_possible = outage_possible
        super().__init__(f"Could not reach FlyteAdmin at {endpoint} with connection {conn_id!r}: {problem}: {fix}")

    def __reduce__(self):  # picklable with its keyword-only argument (Airflow may pickle exceptions)
        return (_unreachable, (self.conn_id, self.endpoint, self.problem, self.fix, self.outage_possible))


def _unreachable(conn_id: str, endpoint: str, problem: str, fix: str, outage_possible: bool) -> FlyteAdminUnreachable:
    return FlyteAdminUnreachable(conn_id, endpoint, problem, fix, outage_possible=outage_possible)


class _ExecutionEnded(AirflowException):
    def __init__(self, state: ExecutionState) -> None:
        self.state = state
        super().__init__(self._message())

    def _message(self) -> str:
        return state_message(self.state)


def state_message(state: ExecutionState) -> str:
    parts = [state.summary()]
    if state.error_code or state.error_message:
        kind = f" kind={state.error_kind}" if state.error_kind else ""
        parts.append(f"error code={state.error_code}{kind}: {state.error_message}")
    if state.abort_cause or state.abort_principal:
        parts.append(f"aborted by {state.abort_principal or 'unknown'}: {state.abort_cause}")
    return "\n".join(parts)


class FlyteExecutionFailed(_ExecutionEnded):
    """The execution reached FAILED; the Flyte error is in the message and on ``state``."""


class FlyteExecutionTimedOut(_ExecutionEnded):
    """The execution reached TIMED_OUT (a Flyte-side timeout)."""


class FlyteExecutionAborted(_ExecutionEnded, AirflowFailException):
    """The execution was aborted; not retried, as someone stopped it deliberately."""


class FlyteWaitTimeout(AirflowFailException):
    """The operator's own ``timeout`` expired and the execution was terminated.

    Like a sensor timeout it is final: retrying would only wait again for the same budget.
    """


class FlyteWaitError(AirflowException):
    """Waiting failed for a reason other than the execution's outcome (it vanished, access denied)."""


def raise_for_outcome(state: ExecutionState) -> None:
    """Raise the Airflow-facing exception for a failed terminal state; return on success."""
    outcome = state.outcome
    if outcome is Outcome.SUCCEEDED:
        return
    if outcome is Outcome.FAILED:
        raise FlyteExecutionFailed(state)
    if outcome is Outcome.TIMED_OUT:
        raise FlyteExecutionTimedOut(state)
    if outcome is Outcome.ABORTED:
        raise FlyteExecutionAborted(state)
    raise FlyteProviderError(f"{state.describe()}: not terminal yet")
