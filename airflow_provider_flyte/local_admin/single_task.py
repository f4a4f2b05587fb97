"""The implicit workflow and launch plan flyteadmin makes to run a single task.

A CreateExecution whose launch plan reference has resource_type TASK runs the task through
`.flytegen.<task name>` entities (same project, domain and version) that flyteadmin creates
on first use: a one-node workflow, and a launch plan whose inputs are the task's inputs,
all required. They are then visible through GetWorkflow / GetLaunchPlan like real ones.
"""

from __future__ import annotations

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.core import (
    compiler_pb2,
    identifier_pb2,
    interface_pb2,
    literals_pb2,
    types_pb2,
)
from flyteidl.core import (
    workflow_pb2 as core_workflow_pb2,
)

from airflow_provider_flyte.local_admin.serialization import END_NODE, START_NODE

SYSTEM_NAME_PREFIX = ".flytegen."
_MAX_NODE_ID_LENGTH = 63


def implicit_name(task_name: str) -> str:
    return SYSTEM_NAME_PREFIX + task_name


def node_id_for_task(task_name: str) -> str:
    """flyteadmin's generateNodeNameFromTask: the last 63 characters, dots turned into dashes."""
    return task_name[-_MAX_NODE_ID_LENGTH:].replace(".", "-")


def implicit_workflow(task: task_pb2.Task) -> workflow_pb2.Workflow:
    template = task.closure.compiled_task.template
    workflow_id = _implicit_id(task.id, identifier_pb2.WORKFLOW)
    node_id = node_id_for_task(task.id.name)
    node = core_workflow_pb2.Node(
        id=node_id,
        inputs=[
            literals_pb2.Binding(
                var=name,
                binding=literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id=START_NODE, var=name)),
            )
            for name in template.interface.inputs.variables
        ],
        task_node=core_workflow_pb2.TaskNode(reference_id=task.id),
    )
    primary = core_workflow_pb2.WorkflowTemplate(
        id=workflow_id,
        interface=template.interface,
        nodes=[node],
        outputs=[
            literals_pb2.Binding(
                var=name,
                binding=literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id=node_id, var=name)),
            )
            for name in template.interface.outputs.variables
        ],
    )
    connections = compiler_pb2.ConnectionSet(
        upstream={
            node_id: compiler_pb2.ConnectionSet.IdList(ids=[START_NODE]),
            END_NODE: compiler_pb2.ConnectionSet.IdList(ids=[node_id]),
        },
        downstream={
            START_NODE: compiler_pb2.ConnectionSet.IdList(ids=[node_id]),
            node_id: compiler_pb2.ConnectionSet.IdList(ids=[END_NODE]),
        },
    )
    closure = compiler_pb2.CompiledWorkflowClosure(
        primary=compiler_pb2.CompiledWorkflow(template=primary, connections=connections),
        tasks=[task.closure.compiled_task],
    )
    return workflow_pb2.Workflow(
        id=workflow_id,
        closure=workflow_pb2.WorkflowClosure(compiled_workflow=closure, created_at=task.closure.created_at),
    )


def implicit_launch_plan(task: task_pb2.Task) -> launch_plan_pb2.LaunchPlan:
    interface = task.closure.compiled_task.template.interface
    required = interface_pb2.ParameterMap(
        parameters={
            name: interface_pb2.Parameter(var=variable, required=True)
            for name, variable in interface.inputs.variables.items()
        }
    )
    return launch_plan_pb2.LaunchPlan(
        id=_implicit_id(task.id, identifier_pb2.LAUNCH_PLAN),
        spec=launch_plan_pb2.LaunchPlanSpec(
            workflow_id=_implicit_id(task.id, identifier_pb2.WORKFLOW), default_inputs=required
        ),
        closure=launch_plan_pb2.LaunchPlanClosure(
            state=launch_plan_pb2.INACTIVE,
            expected_inputs=required,
            expected_outputs=interface.outputs,
            created_at=task.closure.created_at,
            updated_at=task.closure.created_at,
        ),
    )


def _implicit_id(task_id: identifier_pb2.Identifier, resource_type: int) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=resource_type,
        project=task_id.project,
        domain=task_id.domain,
        name=implicit_name(task_id.name),
        version=task_id.version,
    )
