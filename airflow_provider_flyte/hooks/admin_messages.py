"""Building FlyteAdmin requests and reading its answers (flyteidl protobufs, no I/O).

Shared by the sync hook and the async trigger client so both speak to FlyteAdmin identically.
Imported lazily by the hook: flyteidl is not loaded at DAG-parse time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flyteidl.admin import cluster_assignment_pb2, common_pb2, execution_pb2, launch_plan_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, interface_pb2, literals_pb2, security_pb2
from google.protobuf import wrappers_pb2

from airflow_provider_flyte.phases import ExecutionState

LAUNCH_PLAN = identifier_pb2.ResourceType.LAUNCH_PLAN
TASK = identifier_pb2.ResourceType.TASK
WORKFLOW = identifier_pb2.ResourceType.WORKFLOW


@dataclass(frozen=True)
class LaunchTarget:
    """A resolved, versioned launch plan or task and the interface its inputs are checked against."""

    identifier: identifier_pb2.Identifier
    expected_inputs: interface_pb2.ParameterMap
    fixed_inputs: literals_pb2.LiteralMap = field(default_factory=literals_pb2.LiteralMap)

    @property
    def kind(self) -> str:
        return "task" if self.identifier.resource_type == TASK else "launch plan"

    def describe(self) -> str:
        i = self.identifier
        return f"{self.kind} {i.project}/{i.domain}/{i.name}@{i.version}"


@dataclass(frozen=True)
class LaunchOptions:
    """Execution spec options a user may set per launch (names follow airflow-provider-flyte 0.0.5)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    envs: Mapping[str, str] = field(default_factory=dict)
    max_parallelism: int | None = None
    raw_output_data_config: str | None = None
    assumable_iam_role: str | None = None
    kubernetes_service_account: str | None = None
    oauth2_client: Mapping[str, str] | None = None
    secrets: Sequence[Mapping[str, Any]] = ()
    notifications: Sequence[Mapping[str, Any]] = ()
    disable_notifications: bool = False
    overwrite_cache: bool | None = None
    interruptible: bool | None = None
    cluster_pool: str | None = None


def execution_id(project: str, domain: str, name: str) -> identifier_pb2.WorkflowExecutionIdentifier:
    return identifier_pb2.WorkflowExecutionIdentifier(project=project, domain=domain, name=name)


def entity_id(resource_type: int, project: str, domain: str, name: str, version: str = "") -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=resource_type, project=project, domain=domain, name=name, version=version
    )


def named_entity(project: str, domain: str, name: str) -> common_pb2.NamedEntityIdentifier:
    return common_pb2.NamedEntityIdentifier(project=project, domain=domain, name=name)


def execution_request(project: str, domain: str, name: str) -> execution_pb2.WorkflowExecutionGetRequest:
    return execution_pb2.WorkflowExecutionGetRequest(id=execution_id(project, domain, name))


def object_request(resource_type: int, project: str, domain: str, name: str, version: str) -> common_pb2.ObjectGetRequest:
    return common_pb2.ObjectGetRequest(id=entity_id(resource_type, project, domain, name, version))


def terminate_request(project: str, domain: str, name: str, cause: str) -> execution_pb2.ExecutionTerminateRequest:
    return execution_pb2.ExecutionTerminateRequest(id=execution_id(project, domain, name), cause=cause)


def recover_request(project: str, domain: str, name: str, new_name: str) -> execution_pb2.ExecutionRecoverRequest:
    return execution_pb2.ExecutionRecoverRequest(id=execution_id(project, domain, name), name=new_name)


def relaunch_request(project: str, domain: str, name: str, new_name: str) -> execution_pb2.ExecutionRelaunchRequest:
    return execution_pb2.ExecutionRelaunchRequest(id=execution_id(project, domain, name), name=new_name)


def data_request(project: str, domain: str, name: str) -> execution_pb2.WorkflowExecutionGetDataRequest:
    return execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id(project, domain, name))


def newest_first(project: str, domain: str, name: str) -> common_pb2.ResourceListRequest:
    """flytekit's way to find "the latest version": list one, sorted by created_at descending."""
    return common_pb2.ResourceListRequest(
        id=named_entity(project, domain, name),
        limit=1,
        sort_by=common_pb2.Sort(key="created_at", direction=common_pb2.Sort.DESCENDING),
    )


def registered_request(project: str, domain: str, name: str, limit: int, token: str = "") -> common_pb2.ResourceListRequest:
    """Launch plans or tasks of a project/domain, newest first; an empty ``name`` lists every name
    (``NamedEntityIdentifier.name`` is optional in list calls: ``flytectl get launchplan -p -d``)."""
    return common_pb2.ResourceListRequest(
        id=named_entity(project, domain, name),
        limit=limit,
        token=token,
        sort_by=common_pb2.Sort(key="created_at", direction=common_pb2.Sort.DESCENDING),
    )


def list_executions_request(
    project: str, domain: str, names: Sequence[str], limit: int, token: str = ""
) -> common_pb2.ResourceListRequest:
    """The executions named, oldest first (a stable order for offset page tokens)."""
    return common_pb2.ResourceListRequest(
        id=named_entity(project, domain, ""),
        limit=limit,
        token=token,
        filters=f"value_in(execution_name,{';'.join(names)})",
        sort_by=common_pb2.Sort(key="created_at", direction=common_pb2.Sort.ASCENDING),
    )


def active_launch_plan_request(project: str, domain: str, name: str) -> launch_plan_pb2.ActiveLaunchPlanRequest:
    return launch_plan_pb2.ActiveLaunchPlanRequest(id=named_entity(project, domain, name))


def target_from_launch_plan(lp: launch_plan_pb2.LaunchPlan) -> LaunchTarget:
    return LaunchTarget(
        identifier=lp.id,
        expected_inputs=lp.closure.expected_inputs,
        fixed_inputs=lp.spec.fixed_inputs,
    )


def target_from_task(task: Any) -> LaunchTarget:
    """A task launches through an implicit launch plan whose inputs are all required."""
    interface = task.closure.compiled_task.template.interface
    params = interface_pb2.ParameterMap(
        parameters={k: interface_pb2.Parameter(var=v, required=True) for k, v in interface.inputs.variables.items()}
    )
    return LaunchTarget(identifier=task.id, expected_inputs=params)


def _security_context(options: LaunchOptions) -> security_pb2.SecurityContext | None:
    identity = security_pb2.Identity(
        iam_role=options.assumable_iam_role or "",
        k8s_service_account=options.kubernetes_service_account or "",
    )
    if options.oauth2_client:
        identity.oauth2_client.client_id = options.oauth2_client.get("client_id", "")
        secret = options.oauth2_client.get("client_secret")
        if secret is not None and not isinstance(secret, Mapping):
            # Flyte takes a reference to a secret (group/key), never the secret itself.
            raise ValueError(
                "oauth2_client['client_secret'] must be a Flyte secret reference such as "
                f"{{'group': 'oauth', 'key': 'client-secret'}}, got a {type(secret).__name__}"
            )
        if secret:
            identity.oauth2_client.client_secret.CopyFrom(security_pb2.Secret(**secret))
    secrets = [security_pb2.Secret(**dict(s)) for s in options.secrets]
    if not (identity.ListFields() or secrets):
        return None
    return security_pb2.SecurityContext(run_as=identity, secrets=secrets)


def _phase(phase: int | str) -> int:
    if isinstance(phase, int):
        return phase
    return core_execution_pb2.WorkflowExecution.Phase.Value(phase.upper())


def _recipients(spec: Any) -> list[str]:
    """``["a@x"]``, or ``{"recipients_email": ["a@x"]}`` as airflow-provider-flyte 0.0.5 took it."""
    if isinstance(spec, Mapping):
        spec = spec.get("recipients_email") or []
    return [str(address) for address in spec]


def _notification(spec: Mapping[str, Any]) -> common_pb2.Notification:
    note = common_pb2.Notification(phases=[_phase(p) for p in spec.get("phases", [])])
    for channel, message in (("email", common_pb2.EmailNotification), ("slack", common_pb2.SlackNotification),
                             ("pager_duty", common_pb2.PagerDutyNotification)):
        if spec.get(channel):
            getattr(note, channel).CopyFrom(message(recipients_email=_recipients(spec[channel])))
    return note


def create_request(
    target: LaunchTarget, name: str, inputs: literals_pb2.LiteralMap, options: LaunchOptions
) -> execution_pb2.ExecutionCreateRequest:
    spec = execution_pb2.ExecutionSpec(
        launch_plan=target.identifier,
        metadata=execution_pb2.ExecutionMetadata(mode=execution_pb2.ExecutionMetadata.MANUAL),
        labels=common_pb2.Labels(values=dict(options.labels)),
        annotations=common_pb2.Annotations(values=dict(options.annotations)),
        envs=common_pb2.Envs(values=[literals_pb2.KeyValuePair(key=k, value=v) for k, v in options.envs.items()]),
    )
    if options.max_parallelism is not None:
        spec.max_parallelism = options.max_parallelism
    if options.raw_output_data_config:
        spec.raw_output_data_config.output_location_prefix = options.raw_output_data_config
    if (security := _security_context(options)) is not None:
        spec.security_context.CopyFrom(security)
    if options.disable_notifications:
        spec.disable_all = True
    elif options.notifications:
        spec.notifications.notifications.extend(_notification(n) for n in options.notifications)
    if options.overwrite_cache is not None:
        spec.overwrite_cache = options.overwrite_cache
    if options.interruptible is not None:
        spec.interruptible.CopyFrom(wrappers_pb2.BoolValue(value=options.interruptible))
    if options.cluster_pool:
        spec.cluster_assignment.CopyFrom(cluster_assignment_pb2.ClusterAssignment(cluster_pool_name=options.cluster_pool))
    i = target.identifier
    return execution_pb2.ExecutionCreateRequest(project=i.project, domain=i.domain, name=name, spec=spec, inputs=inputs)


def state_from_execution(execution: execution_pb2.Execution, url: str) -> ExecutionState:
    closure = execution.closure
    phase = core_execution_pb2.WorkflowExecution.Phase.Name(closure.phase)
    error = closure.error if closure.HasField("error") else None
    abort = closure.abort_metadata if closure.HasField("abort_metadata") else None
    return ExecutionState(
        project=execution.id.project,
        domain=execution.id.domain,
        name=execution.id.name,
        phase=phase,
        url=url,
        error_code=error.code if error else "",
        error_kind=core_execution_pb2.ExecutionError.ErrorKind.Name(error.kind) if error else "",
        error_message=error.message if error else "",
        abort_cause=(abort.cause if abort else "") or closure.abort_cause,
        abort_principal=abort.principal if abort else "",
        started_at=closure.started_at.ToJsonString() if closure.HasField("started_at") else "",
        labels=dict(execution.spec.labels.values),
        duration_s=closure.duration.ToTimedelta().total_seconds() if closure.HasField("duration") else 0.0,
    )
