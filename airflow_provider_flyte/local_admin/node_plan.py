"""Splits an entity into the top-level nodes the worker runs one by one, and wires their data.

flytepropeller runs a workflow node by node, which is what makes node phases observable and
recovery possible. The worker does the same for the top-level nodes of a workflow whose nodes
are tasks, sub-workflows, launch plans or gates (each runs as one node; gates in ``gates``). A
workflow with any other node kind (conditional branches, array nodes) or with attribute-path bindings runs
as a single node `n0` standing for the whole workflow; a single task runs as one node named
like flyteadmin names it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flyteidl.core import literals_pb2, types_pb2
from flytekit.core.base_task import PythonTask
from flytekit.core.gate import Gate
from flytekit.core.launch_plan import LaunchPlan
from flytekit.core.workflow import WorkflowBase

from airflow_provider_flyte.local_admin.single_task import node_id_for_task

WORKFLOW_INPUTS = ("", "start-node")  # flytekit's local id for workflow inputs, and the serialized one
WHOLE_ENTITY_NODE = "n0"
_RUNNABLE_KINDS = (PythonTask, WorkflowBase, LaunchPlan, Gate)
NodeOutputs = Mapping[str, literals_pb2.LiteralMap]


@dataclass(frozen=True)
class PlannedNode:
    node_id: str
    entity: Any
    bindings: list[literals_pb2.Binding]
    timeout: datetime.timedelta | None = None  # the node's (a gate's timeout is its node's)


@dataclass(frozen=True)
class NodePlan:
    nodes: list[PlannedNode]
    outputs: list[literals_pb2.Binding]


def plan_nodes(entity: Any) -> NodePlan:
    if isinstance(entity, WorkflowBase) and _splittable(entity):
        nodes = [
            PlannedNode(node.id, node.flyte_entity, [b.to_flyte_idl() for b in node.bindings], node.metadata.timeout or None)
            for node in _in_dependency_order(entity.nodes)
        ]
        return NodePlan(nodes, [b.to_flyte_idl() for b in entity.output_bindings])
    node_id = node_id_for_task(entity.name) if isinstance(entity, PythonTask) else WHOLE_ENTITY_NODE
    inputs = [_reference(WORKFLOW_INPUTS[1], name) for name in entity.python_interface.inputs]
    outputs = [_reference(node_id, name) for name in entity.python_interface.outputs]
    return NodePlan([PlannedNode(node_id, entity, inputs)], outputs)


def resolve(bindings: list[literals_pb2.Binding], outputs: NodeOutputs) -> literals_pb2.LiteralMap:
    """Binds each variable to a literal, from constants and upstream outputs (workflow inputs included)."""
    return literals_pb2.LiteralMap(literals={b.var: _resolve_data(b.binding, outputs) for b in bindings})


def _resolve_data(data: literals_pb2.BindingData, outputs: NodeOutputs) -> literals_pb2.Literal:
    kind = data.WhichOneof("value")
    if kind == "scalar":
        return literals_pb2.Literal(scalar=data.scalar)
    if kind == "collection":
        items = [_resolve_data(item, outputs) for item in data.collection.bindings]
        return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))
    if kind == "map":
        entries = {key: _resolve_data(item, outputs) for key, item in data.map.bindings.items()}
        return literals_pb2.Literal(map=literals_pb2.LiteralMap(literals=entries))
    if kind == "promise":
        source = WORKFLOW_INPUTS[1] if data.promise.node_id in WORKFLOW_INPUTS else data.promise.node_id
        return outputs[source].literals[data.promise.var]
    raise ValueError(f"unsupported binding kind {kind}")


def _splittable(workflow: WorkflowBase) -> bool:
    return all(
        isinstance(node.flyte_entity, _RUNNABLE_KINDS)
        and not any(_uses_attr_path(b.to_flyte_idl().binding) for b in node.bindings)
        for node in workflow.nodes
    ) and not any(_uses_attr_path(b.to_flyte_idl().binding) for b in workflow.output_bindings)


def _uses_attr_path(data: literals_pb2.BindingData) -> bool:
    kind = data.WhichOneof("value")
    if kind == "promise":
        return len(data.promise.attr_path) > 0
    if kind == "collection":
        return any(_uses_attr_path(item) for item in data.collection.bindings)
    if kind == "map":
        return any(_uses_attr_path(item) for item in data.map.bindings.values())
    return False


def _in_dependency_order(nodes: list) -> list:
    """Creation order, except that a node never comes before one it depends on (`a >> b` may reorder)."""
    ordered, placed = [], set()
    pending = list(nodes)
    while pending:
        ready = next(n for n in pending if all(up.id in placed or up.id in WORKFLOW_INPUTS for up in n.upstream_nodes))
        pending.remove(ready)
        ordered.append(ready)
        placed.add(ready.id)
    return ordered


def _reference(node_id: str, var: str) -> literals_pb2.Binding:
    return literals_pb2.Binding(
        var=var, binding=literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id=node_id, var=var))
    )
