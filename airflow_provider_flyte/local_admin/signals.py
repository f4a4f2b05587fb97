"""Signals of gate nodes (``approve``, ``wait_for_input``), as files in a run's work dir.

In Flyte, flytepropeller creates a gate's signal with ``GetOrCreateSignal`` when the gate node
starts and looks for its value on every round; people answer with ``SetSignal`` (FlyteRemote's
``approve``, ``reject``, ``set_input``). Here the worker plays propeller: it creates the signal
(``signals/<id>.type.pb``) and waits for ``signals/<id>.value.pb``, which the admin's
``SetSignal`` writes atomically (``signal_service``).
"""

from __future__ import annotations

from pathlib import Path

from flyteidl.core import literals_pb2, types_pb2

from airflow_provider_flyte.local_admin.nodes import write_atomically

SIGNALS_DIR = "signals"
_TYPE_SUFFIX = ".type.pb"
_VALUE_SUFFIX = ".value.pb"


class SignalFiles:
    """The signals of one run, as files in its work dir: written by the worker and the admin."""

    def __init__(self, work_dir: str | Path) -> None:
        self._dir = Path(work_dir) / SIGNALS_DIR

    def create(self, signal_id: str, literal_type: types_pb2.LiteralType) -> types_pb2.LiteralType:
        """The signal's type: the existing one if it was created before (GetOrCreate)."""
        self._dir.mkdir(parents=True, exist_ok=True)
        existing = self.type_of(signal_id)
        if existing is not None:
            return existing
        write_atomically(self._dir / (signal_id + _TYPE_SUFFIX), literal_type.SerializeToString())
        return literal_type

    def type_of(self, signal_id: str) -> types_pb2.LiteralType | None:
        path = self._dir / (signal_id + _TYPE_SUFFIX)
        return types_pb2.LiteralType.FromString(path.read_bytes()) if path.exists() else None

    def value_of(self, signal_id: str) -> literals_pb2.Literal | None:
        path = self._dir / (signal_id + _VALUE_SUFFIX)
        return literals_pb2.Literal.FromString(path.read_bytes()) if path.exists() else None

    def set(self, signal_id: str, value: literals_pb2.Literal) -> None:
        write_atomically(self._dir / (signal_id + _VALUE_SUFFIX), value.SerializeToString())

    def ids(self) -> list[str]:
        """Signal ids in creation order."""
        if not self._dir.exists():
            return []
        created = sorted(self._dir.glob("*" + _TYPE_SUFFIX), key=lambda path: (path.stat().st_mtime_ns, path.name))
        return [path.name[: -len(_TYPE_SUFFIX)] for path in created]
