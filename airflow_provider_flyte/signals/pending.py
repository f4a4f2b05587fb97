"""Which signals an execution waits for: FlyteAdmin's signals joined with the workflow's gate nodes.

FlyteAdmin lists an execution's signals (created by flytepropeller when a gate node starts) with
their type and, once answered, their value; it does not say which node waits. The workflow's
compiled template does: each gate node names its signal (``approve.signal_id`` or
``signal.signal_id``), which also tells an approval from an input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

APPROVAL = "approval"
INPUT = "input"


@dataclass(frozen=True)
class PendingSignal:
    """A signal an execution waits for. ``type`` describes its Flyte type ("boolean", "integer"...)."""

    project: str
    domain: str
    execution: str
    signal_id: str
    kind: str  # APPROVAL or INPUT
    type: str
    node_id: str = ""

    def describe(self) -> str:
        what = "approval" if self.kind == APPROVAL else f"input ({self.type})"
        where = f" on node {self.node_id}" if self.node_id else ""
        return f"waiting for {what} `{self.signal_id}`{where}"

    def to_xcom(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_xcom(cls, data: Mapping[str, Any]) -> PendingSignal:
        try:
            return cls(**{key: str(data[key]) for key in ("project", "domain", "execution", "signal_id", "kind", "type")},
                       node_id=str(data.get("node_id", "")))
        except KeyError as missing:
            raise ValueError(f"A pending Flyte signal needs {missing}; got {dict(data)!r}") from None


def template_gates(template: Any) -> dict[str, tuple[str, str]]:
    """signal id -> (node id, kind) for the gate nodes of a workflow template, sub-workflows'
    nodes included (branch nodes are not searched)."""
    found: dict[str, tuple[str, str]] = {}
    for node in template.nodes:
        if node.HasField("gate_node"):
            gate = node.gate_node
            if gate.HasField("approve"):
                found[gate.approve.signal_id] = (node.id, APPROVAL)
            elif gate.HasField("signal"):
                found[gate.signal.signal_id] = (node.id, INPUT)
    return found


def pending_signals(
    project: str, domain: str, execution: str, signals: Iterable[Any], gates: Mapping[str, tuple[str, str]]
) -> list[PendingSignal]:
    """The signals without a value yet, in FlyteAdmin's order."""
    from flyteidl.core import types_pb2

    from airflow_provider_flyte.hooks.literals import describe_type

    pending = []
    for signal in signals:
        if signal.HasField("value"):
            continue
        node_id, kind = gates.get(signal.id.signal_id, ("", ""))
        if not kind:
            kind = APPROVAL if signal.type.WhichOneof("type") == "simple" and signal.type.simple == types_pb2.BOOLEAN else INPUT
        pending.append(
            PendingSignal(project, domain, execution, signal.id.signal_id, kind, describe_type(signal.type), node_id)
        )
    return pending


class GateReporter:
    """Tells a wait's task log, once per gate, that the execution waits for a person.

    ``look`` is a program (``hooks.calls.Program``) that the blocking wait drives on its client and
    the trigger on the shared asyncio one. Only a workflow that has gate nodes is asked about
    signals (its template is read once, at the first look while RUNNING); nothing more is asked
    for the workflows without gates.
    """

    def __init__(self, log: Any) -> None:
        self._log = log
        self._gates: dict[str, tuple[str, str]] | None = None  # unknown until the first look
        self._told: set[str] = set()

    @property
    def may_pause(self) -> bool:
        """Whether the workflow has (or may have: not looked yet) gate nodes to report."""
        return self._gates is None or bool(self._gates)

    def look(self, state: Any) -> Any:
        from airflow_provider_flyte.hooks import calls

        if state.phase != "RUNNING" or not self.may_pause:
            return
        if self._gates is None:
            self._gates = yield from calls.gate_nodes(state.project, state.domain, state.name)
            if not self._gates:
                return
        signals = yield calls.list_signals(state.project, state.domain, state.name)
        for signal in pending_signals(state.project, state.domain, state.name, signals, self._gates):
            if signal.signal_id not in self._told:
                self._told.add(signal.signal_id)
                self._log.info(
                    "%s %s; answer it in Flyte or from Airflow%s",
                    state.describe(),
                    signal.describe(),
                    f" - console: {state.url}" if state.url else "",
                )
