"""Turns flytekit entities into the admin objects a `pyflyte register` would have created.

flytekit's translator gives the templates; the admin adds what a registration stores on top:
the compiled workflow closure (templates of every task and sub-workflow it references, plus
node connections) and the launch plan closure (state, expected inputs and outputs).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.core import compiler_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2
from flytekit.configuration import ImageConfig, SerializationSettings
from flytekit.core.launch_plan import LaunchPlan
from flytekit.core.workflow import WorkflowBase
from flytekit.models import launch_plan as launch_plan_models
from flytekit.models.task import TaskSpec
from flytekit.tools.translator import get_serializable
from google.protobuf.timestamp_pb2 import Timestamp

from airflow_provider_flyte.local_admin.modules import ModuleEntities

START_NODE = "start-node"
END_NODE = "end-node"


@dataclass
class Registration:
    """Everything one module registers, ready for the registry."""

    tasks: list[task_pb2.Task] = field(default_factory=list)
    workflows: list[workflow_pb2.Workflow] = field(default_factory=list)
    launch_plans: list[launch_plan_pb2.LaunchPlan] = field(default_factory=list)


def serialize_entities(
    entities: ModuleEntities,
    project: str,
    domain: str,
    version: str,
    activate_launch_plans: bool,
    created_at: Timestamp,
) -> Registration:
    settings = SerializationSettings(
        image_config=ImageConfig.auto_default_image(), project=project, domain=domain, version=version
    )
    registration = Registration()
    for task in entities.tasks:
        spec = get_serializable(OrderedDict(), settings, task)
        registration.tasks.append(_admin_task(spec, created_at))
    launch_plans: dict[str, LaunchPlan] = {}
    for workflow in entities.workflows:
        registration.workflows.append(_admin_workflow(workflow, settings, created_at))
        default = LaunchPlan.get_or_create(workflow)
        launch_plans[default.name] = default
    for launch_plan in entities.launch_plans:
        launch_plans.setdefault(launch_plan.name, launch_plan)
    state = launch_plan_pb2.ACTIVE if activate_launch_plans else launch_plan_pb2.INACTIVE
    for launch_plan in launch_plans.values():
        model = get_serializable(OrderedDict(), settings, launch_plan)
        registration.launch_plans.append(_admin_launch_plan(model, launch_plan, state, created_at))
    return registration


def _admin_task(spec: TaskSpec, created_at: Timestamp) -> task_pb2.Task:
    template = spec.template.to_flyte_idl()
    return task_pb2.Task(
        id=template.id,
        closure=task_pb2.TaskClosure(
            compiled_task=compiler_pb2.CompiledTask(template=template), created_at=created_at
        ),
    )


def _admin_workflow(
    workflow: WorkflowBase, settings: SerializationSettings, created_at: Timestamp
) -> workflow_pb2.Workflow:
    dependencies: OrderedDict = OrderedDict()
    spec = get_serializable(dependencies, settings, workflow)
    templates = [
        cp.template.to_flyte_idl() for cp in dependencies.values() if isinstance(cp, TaskSpec)
    ]
    primary = spec.template.to_flyte_idl()
    closure = compiler_pb2.CompiledWorkflowClosure(
        primary=_compiled(primary),
        sub_workflows=[_compiled(sub.to_flyte_idl()) for sub in spec.sub_workflows],
        tasks=[compiler_pb2.CompiledTask(template=t) for t in _unique_by_id(templates)],
    )
    return workflow_pb2.Workflow(
        id=primary.id,
        closure=workflow_pb2.WorkflowClosure(compiled_workflow=closure, created_at=created_at),
    )


def _admin_launch_plan(
    model: launch_plan_models.LaunchPlan,
    launch_plan: LaunchPlan,
    state: int,
    created_at: Timestamp,
) -> launch_plan_pb2.LaunchPlan:
    """flyteadmin derives expected inputs from the spec's defaults and outputs from the workflow."""
    idl = model.to_flyte_idl()
    idl.closure.CopyFrom(
        launch_plan_pb2.LaunchPlanClosure(
            state=state,
            expected_inputs=idl.spec.default_inputs,
            expected_outputs=launch_plan.workflow.interface.to_flyte_idl().outputs,
            created_at=created_at,
            updated_at=created_at,
        )
    )
    return idl


def _compiled(template: core_workflow_pb2.WorkflowTemplate) -> compiler_pb2.CompiledWorkflow:
    return compiler_pb2.CompiledWorkflow(template=template, connections=_connections(template))


def _connections(template: core_workflow_pb2.WorkflowTemplate) -> compiler_pb2.ConnectionSet:
    """Edges as flytepropeller's compiler records them: start-node feeds roots, leaves feed end-node."""
    upstream: dict[str, list[str]] = {}
    for node in template.nodes:
        upstream[node.id] = list(node.upstream_node_ids) or [START_NODE]
    has_downstream = {parent for parents in upstream.values() for parent in parents}
    upstream[END_NODE] = [n for n in upstream if n not in has_downstream] or [START_NODE]
    downstream: dict[str, list[str]] = {}
    for child, parents in upstream.items():
        for parent in parents:
            downstream.setdefault(parent, []).append(child)
    return compiler_pb2.ConnectionSet(
        upstream={k: compiler_pb2.ConnectionSet.IdList(ids=v) for k, v in upstream.items()},
        downstream={k: compiler_pb2.ConnectionSet.IdList(ids=v) for k, v in downstream.items()},
    )


def _unique_by_id(templates: list) -> list:
    seen: dict[bytes, object] = {}
    for template in templates:
        seen.setdefault(template.id.SerializeToString(deterministic=True), template)
    return list(seen.values())
