"""flyteadmin's SignalService, over the signal files of each run (``signals``).

As flyteadmin 1.16 answers (``signal_manager.go``, ``signal_validator.go``, ``signal_repo.go``):

- ``GetOrCreateSignal``: ``missing id`` / ``missing signal_id`` / ``missing type``; an existing
  signal is returned as it is (its first type kept);
- ``ListSignals``: the execution's signals, with their value once set; a limit of 0 is refused;
- ``SetSignal``: ``missing value``; an unknown signal is INVALID_ARGUMENT "failed to validate that
  signal [...] exists"; a value whose type cannot be cast to the signal's is INVALID_ARGUMENT
  "requested signal value [...] is not castable to existing signal type [...]". Setting a signal
  again is accepted and overwrites the value (flyteadmin updates the row); a gate already past it
  has used the first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import grpc
from flyteidl.admin import signal_pb2
from flyteidl.core import identifier_pb2, literals_pb2, types_pb2
from flyteidl.service import signal_pb2_grpc
from google.protobuf import text_format

from airflow_provider_flyte.local_admin.errors import AdminError, invalid_argument
from airflow_provider_flyte.local_admin.literal_types import is_castable, literal_type_of
from airflow_provider_flyte.local_admin.service import answers_errors, check_limit, token_offset
from airflow_provider_flyte.local_admin.signals import SignalFiles


def _missing(what: str) -> Exception:
    return invalid_argument(f"missing {what}")


def _check_execution_id(execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> None:
    for field in ("project", "domain", "name"):
        if not getattr(execution_id, field):
            raise _missing(field)


def _check_signal_id(signal_id: identifier_pb2.SignalIdentifier) -> None:
    if not signal_id.HasField("execution_id"):
        raise _missing("execution_id")
    if not signal_id.signal_id:
        raise _missing("signal_id")
    _check_execution_id(signal_id.execution_id)


def _one_line(message) -> str:
    return text_format.MessageToString(message, as_one_line=True)


class SignalService(signal_pb2_grpc.SignalServiceServicer):
    """``files_of(execution_id)`` gives a run's signal files; it raises NOT_FOUND for an unknown
    execution (flyteadmin would keep a signal for any id; here signals live with their run)."""

    def __init__(self, files_of: Callable[[identifier_pb2.WorkflowExecutionIdentifier], SignalFiles]) -> None:
        self._files_of = files_of
        self._lock = threading.Lock()

    @answers_errors
    def GetOrCreateSignal(self, request, context) -> signal_pb2.Signal:
        if not request.HasField("id"):
            raise _missing("id")
        _check_signal_id(request.id)
        if not request.HasField("type"):
            raise _missing("type")
        files = self._files_of(request.id.execution_id)
        with self._lock:
            literal_type = files.create(request.id.signal_id, request.type)
        return self._signal(request.id, literal_type, files.value_of(request.id.signal_id))

    @answers_errors
    def ListSignals(self, request, context) -> signal_pb2.SignalList:
        _check_execution_id(request.workflow_execution_id)
        check_limit(request)
        if request.filters:
            raise AdminError(grpc.StatusCode.UNIMPLEMENTED, "flyte-local-admin does not support filters on this list")
        offset = token_offset(request, "ListSignals")
        files = self._files_of(request.workflow_execution_id)
        page = files.ids()[offset : offset + request.limit]
        signals = []
        for signal_id in page:
            identifier = identifier_pb2.SignalIdentifier(signal_id=signal_id, execution_id=request.workflow_execution_id)
            signals.append(self._signal(identifier, files.type_of(signal_id), files.value_of(signal_id)))
        token = str(offset + len(page)) if len(page) == request.limit else ""
        return signal_pb2.SignalList(signals=signals, token=token)

    @answers_errors
    def SetSignal(self, request, context) -> signal_pb2.SignalSetResponse:
        if not request.HasField("id"):
            raise _missing("id")
        _check_signal_id(request.id)
        if not request.HasField("value"):
            raise _missing("value")
        files = self._files_of(request.id.execution_id)
        signal_type = files.type_of(request.id.signal_id)
        if signal_type is None:
            key = _one_line(request.id)
            raise invalid_argument(f"failed to validate that signal [{key}] exists, err: [signal does not exist]")
        if not is_castable(literal_type_of(request.value), signal_type):
            raise invalid_argument(
                f"requested signal value [{_one_line(request.value)}] is not castable to existing signal type "
                f"[{_one_line(signal_type)}]"
            )
        with self._lock:
            files.set(request.id.signal_id, request.value)
        return signal_pb2.SignalSetResponse()

    @staticmethod
    def _signal(
        identifier: identifier_pb2.SignalIdentifier,
        literal_type: types_pb2.LiteralType | None,
        value: literals_pb2.Literal | None,
    ) -> signal_pb2.Signal:
        signal = signal_pb2.Signal(id=identifier, type=literal_type)
        if value is not None:
            signal.value.CopyFrom(value)
        return signal
