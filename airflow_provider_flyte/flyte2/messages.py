"""Building flyteidl2 requests and reading answers: the protocol's side of the hook, in one place.

Imported inside hook methods only (it imports flyteidl2 at the top).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flyteidl2.common import identifier_pb2, list_pb2
from flyteidl2.core import literals_pb2
from flyteidl2.task import run_pb2, task_definition_pb2, task_service_pb2
from flyteidl2.workflow import run_service_pb2
from google.protobuf import wrappers_pb2

from airflow_provider_flyte.flyte2.phases import RunState, phase_name

ROOT_ACTION = "a0"
LIST_PAGE_SIZE = 100


@dataclass(frozen=True)
class RunOptions:
    """What a run carries besides its task and inputs (``RunSpec``)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    envs: Mapping[str, str] = field(default_factory=dict)
    interruptible: bool | None = None
    overwrite_cache: bool = False
    cluster_pool: str = ""
    queue: str = ""

    def run_spec(self) -> Any:
        spec = run_pb2.RunSpec(
            labels=run_pb2.Labels(values=dict(self.labels)),
            annotations=run_pb2.Annotations(values=dict(self.annotations)),
            envs=run_pb2.Envs(values=[literals_pb2.KeyValuePair(key=k, value=v) for k, v in self.envs.items()]),
            overwrite_cache=self.overwrite_cache,
            cluster_pool=self.cluster_pool,
            queue=self.queue,
        )
        if self.interruptible is not None:
            spec.interruptible.CopyFrom(wrappers_pb2.BoolValue(value=self.interruptible))
        return spec


def run_id(org: str, project: str, domain: str, name: str) -> Any:
    return identifier_pb2.RunIdentifier(org=org, project=project, domain=domain, name=name)


def root_action(org: str, project: str, domain: str, name: str) -> Any:
    return identifier_pb2.ActionIdentifier(run=run_id(org, project, domain, name), name=ROOT_ACTION)


def task_id(org: str, project: str, domain: str, name: str, version: str) -> Any:
    return task_definition_pb2.TaskIdentifier(org=org, project=project, domain=domain, name=name, version=version)


def task_details_request(org: str, project: str, domain: str, name: str, version: str) -> Any:
    return task_service_pb2.GetTaskDetailsRequest(task_id=task_id(org, project, domain, name, version))


def versions_request(org: str, project: str, domain: str, name: str, token: str = "") -> Any:
    newest_first = list_pb2.Sort(key="created_at", direction=list_pb2.Sort.DESCENDING)
    return task_service_pb2.ListVersionsRequest(
        request=list_pb2.ListRequest(limit=LIST_PAGE_SIZE, token=token, sort_by=newest_first),
        task_name=task_definition_pb2.TaskName(org=org, project=project, domain=domain, name=name),
    )


def create_run_request(task: Any, org: str, project: str, domain: str, name: str, inputs: Any, options: RunOptions) -> Any:
    return run_service_pb2.CreateRunRequest(
        run_id=run_id(org, project, domain, name), task_id=task.task_id, inputs=inputs, run_spec=options.run_spec()
    )


def abort_request(org: str, project: str, domain: str, name: str, reason: str) -> Any:
    return run_service_pb2.AbortRunRequest(run_id=run_id(org, project, domain, name), reason=reason)


def details_request(org: str, project: str, domain: str, name: str) -> Any:
    return run_service_pb2.GetRunDetailsRequest(run_id=run_id(org, project, domain, name))


def action_data_request(org: str, project: str, domain: str, name: str, data_proxy: bool) -> Any:
    from flyteidl2.dataproxy import dataproxy_service_pb2

    module = dataproxy_service_pb2 if data_proxy else run_service_pb2
    return module.GetActionDataRequest(action_id=root_action(org, project, domain, name))


def list_runs_request(org: str, project: str | None, domain: str | None) -> Any:
    """One run of the project, or of the organisation when no project is known."""
    if project and domain:
        return run_service_pb2.ListRunsRequest(
            request=list_pb2.ListRequest(limit=1),
            project_id=identifier_pb2.ProjectIdentifier(organization=org, domain=domain, name=project),
        )
    return run_service_pb2.ListRunsRequest(request=list_pb2.ListRequest(limit=1), org=org)


def _who(identity: Any) -> str:
    if identity.HasField("user"):
        spec = identity.user.spec
        return spec.email or spec.user_handle or identity.user.id.subject
    if identity.HasField("application"):
        return identity.application.spec.name or identity.application.id.subject
    return ""


def state_from_details(details: Any, org: str, project: str, domain: str, name: str, url: str) -> RunState:
    """The root action's phase, error and abort cause, the run's labels and start. ``org`` is the
    one we asked with (a server may answer with its default organisation for an empty one)."""
    action = details.action
    status = action.status
    error = action.error_info
    kind = run_definition_kind(error.kind) if action.HasField("error_info") else ""
    started = status.start_time.ToDatetime().isoformat() + "Z" if status.HasField("start_time") else ""
    return RunState(
        project=project,
        domain=domain,
        name=name,
        org=org,
        phase=phase_name(status.phase),
        url=url,
        error_code=error.code,
        error_kind=kind,
        error_message=error.message,
        abort_cause=action.abort_info.reason,
        abort_principal=_who(action.abort_info.aborted_by) if action.HasField("abort_info") else "",
        started_at=started,
        duration_s=status.duration_ms / 1000.0,
        labels=dict(details.run_spec.labels.values),
    )


def run_definition_kind(kind: int) -> str:
    from flyteidl2.workflow import run_definition_pb2

    return str(run_definition_pb2.ErrorInfo.Kind.Name(kind)).removeprefix("KIND_")
