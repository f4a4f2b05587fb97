"""The Connect services the Flyte 2 SDK and our hook call: RunService, TaskService, DataProxyService,
ClusterService and AuthMetadataService, each answering from the task registry and the run store.

Every method the SDK's generated ``Protocol`` declares but this service does not implement keeps the
generated body, which answers unimplemented, as a real service without that feature would.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from flyteidl2.auth import auth_service_pb2
from flyteidl2.auth.auth_service_connect import AuthMetadataService
from flyteidl2.cluster import payload_pb2 as cluster_pb2
from flyteidl2.cluster.service_connect import ClusterService
from flyteidl2.common import identifier_pb2, run_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2
from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyService
from flyteidl2.logs.dataplane import payload_pb2 as logs_pb2
from flyteidl2.task import common_pb2, task_definition_pb2, task_service_pb2
from flyteidl2.task.task_service_connect import TaskService
from flyteidl2.workflow import run_service_pb2
from flyteidl2.workflow.run_service_connect import RunService
from google.protobuf import timestamp_pb2

import airflow_provider_flyte.local_flyte2.auth as auth
import airflow_provider_flyte.local_flyte2.listing as listing
import airflow_provider_flyte.local_flyte2.validation as validation
from airflow_provider_flyte.local_flyte2.registry import DeployedTask, TaskRegistry
from airflow_provider_flyte.local_flyte2.runs import ROOT_ACTION, Run, RunStore


class InputStore:
    """Inputs uploaded through DataProxy.UploadInputs, kept as files under the state folder by content hash,
    so a CreateRun that references them by URI (as the SDK does) finds them."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def put(self, inputs: common_pb2.Inputs) -> run_pb2.OffloadedInputData:
        data = inputs.SerializeToString(deterministic=True)
        digest = hashlib.sha256(data).hexdigest()
        path = self._folder / f"{digest}.pb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return run_pb2.OffloadedInputData(uri=path.as_uri(), inputs_hash=digest)

    def get(self, uri: str) -> common_pb2.Inputs:
        path = self._folder / Path(uri.removeprefix("file://")).name
        if not uri.startswith("file://") or not path.is_file():
            raise ConnectError(Code.NOT_FOUND, f"offloaded inputs not found: {uri}")
        return common_pb2.Inputs.FromString(path.read_bytes())


class LocalRunService(RunService):
    """RunService: create, abort, read and watch runs of the deployed tasks."""

    def __init__(self, registry: TaskRegistry, runs: RunStore, inputs: InputStore, projects: set[str]) -> None:
        self._registry = registry
        self._runs = runs
        self._inputs = inputs
        self._projects = projects

    def _task_of(self, request: run_service_pb2.CreateRunRequest) -> DeployedTask:
        which = request.WhichOneof("task")
        if which == "task_id":
            return self._registry.get(request.task_id)
        if which == "task_spec":
            # A spec the SDK sends for a task it fetched from here and overrode: runnable only as the
            # deployed code it names (this service runs no code it was not started with).
            tid = request.task_spec.task_template.id
            return self._registry.get(
                task_definition_pb2.TaskIdentifier(project=tid.project, domain=tid.domain, name=tid.name, version=tid.version)
            )
        if which == "trigger_name":
            raise ConnectError(Code.UNIMPLEMENTED, "triggers are not supported by the local Flyte 2 run service")
        raise validation.invalid("invalid CreateRunRequest: one of task_id, task_spec or trigger_name is required")

    async def create_run(
        self, request: run_service_pb2.CreateRunRequest, ctx: RequestContext
    ) -> run_service_pb2.CreateRunResponse:
        which = request.WhichOneof("id")
        if which == "run_id":
            run_id = request.run_id
            validation.check_run_name(run_id.name)
        elif which == "project_id":
            run_id = identifier_pb2.RunIdentifier(
                org=request.project_id.organization,
                project=request.project_id.name,
                domain=request.project_id.domain,
                name=validation.generate_run_name(),
            )
        else:
            raise validation.invalid("invalid run ID type")
        if run_id.project not in self._projects:
            raise ConnectError(Code.NOT_FOUND, f'project "{run_id.project}" not found')
        task = self._task_of(request)
        if request.WhichOneof("input_wrapper") == "offloaded_input_data":
            inputs = self._inputs.get(request.offloaded_input_data.uri)
        else:
            inputs = request.inputs
        inputs = validation.complete_inputs(inputs, task.spec)
        run = self._runs.create(run_id, task, inputs, request.run_spec)
        return run_service_pb2.CreateRunResponse(run=run.proto())

    async def abort_run(self, request: run_service_pb2.AbortRunRequest, ctx: RequestContext) -> run_service_pb2.AbortRunResponse:
        await self._runs.abort(self._runs.get(request.run_id), request.reason, auth.principal.get())
        return run_service_pb2.AbortRunResponse()

    async def abort_action(
        self, request: run_service_pb2.AbortActionRequest, ctx: RequestContext
    ) -> run_service_pb2.AbortActionResponse:
        await self._runs.abort(self._runs.get_action(request.action_id), request.reason, auth.principal.get())
        return run_service_pb2.AbortActionResponse()

    async def get_run_details(
        self, request: run_service_pb2.GetRunDetailsRequest, ctx: RequestContext
    ) -> run_service_pb2.GetRunDetailsResponse:
        return run_service_pb2.GetRunDetailsResponse(details=self._runs.get(request.run_id).details())

    async def watch_run_details(
        self, request: run_service_pb2.WatchRunDetailsRequest, ctx: RequestContext
    ) -> AsyncIterator[run_service_pb2.WatchRunDetailsResponse]:
        async for run in self._runs.watch(self._runs.get(request.run_id)):
            yield run_service_pb2.WatchRunDetailsResponse(details=run.details())

    async def get_action_details(
        self, request: run_service_pb2.GetActionDetailsRequest, ctx: RequestContext
    ) -> run_service_pb2.GetActionDetailsResponse:
        return run_service_pb2.GetActionDetailsResponse(details=self._runs.get_action(request.action_id).action_details())

    async def watch_action_details(
        self, request: run_service_pb2.WatchActionDetailsRequest, ctx: RequestContext
    ) -> AsyncIterator[run_service_pb2.WatchActionDetailsResponse]:
        async for run in self._runs.watch(self._runs.get_action(request.action_id)):
            yield run_service_pb2.WatchActionDetailsResponse(details=run.action_details())

    async def get_action_data(
        self, request: run_service_pb2.GetActionDataRequest, ctx: RequestContext
    ) -> run_service_pb2.GetActionDataResponse:
        # The open-source service's answer, word for word: callers are to use the data proxy.
        raise ConnectError(
            Code.UNIMPLEMENTED, "RunService.GetActionData is deprecated; use DataProxyService.GetActionData instead"
        )

    async def list_runs(self, request: run_service_pb2.ListRunsRequest, ctx: RequestContext) -> run_service_pb2.ListRunsResponse:
        task_name = None
        if request.HasField("task_name"):
            project, domain, task_name = request.task_name.project, request.task_name.domain, request.task_name.name
        elif request.HasField("task_id"):
            project, domain, task_name = request.task_id.project, request.task_id.domain, request.task_id.name
        else:
            project, domain = request.project_id.name, request.project_id.domain
        found = listing.filtered(self._runs.in_project(project, domain, task_name), request.request, _RUN_FIELDS)
        if listing.newest_first(request.request, default=True):
            found.reverse()
        chunk, token = listing.page(found, request.request)
        return run_service_pb2.ListRunsResponse(runs=[run.proto() for run in chunk], token=token)

    async def list_actions(
        self, request: run_service_pb2.ListActionsRequest, ctx: RequestContext
    ) -> run_service_pb2.ListActionsResponse:
        found = listing.filtered([self._runs.get(request.run_id)], request.request, _ACTION_FIELDS)
        return run_service_pb2.ListActionsResponse(actions=[run.action() for run in found])


# The fields list filters may name, per list (values as filters carry them: phases as their numbers).
_RUN_FIELDS: dict[str, Callable[[Run], str]] = {
    "name": lambda run: run.name,
    "phase": lambda run: str(run.phase),
    "task_name": lambda run: run.task.name,
    "task_version": lambda run: run.task.task_id.version,
}
_ACTION_FIELDS: dict[str, Callable[[Run], str]] = {
    "name": lambda run: ROOT_ACTION,
    "phase": lambda run: str(run.phase),
    "parent_name": lambda run: "",
    "task_name": lambda run: run.task.name,
}
_TASK_FIELDS: dict[str, Callable[[DeployedTask], str]] = {
    "name": lambda task: task.name,
    "version": lambda task: task.task_id.version,
    "environment_name": lambda task: task.spec.environment.name,
}


class LocalTaskService(TaskService):
    """TaskService: the deployed tasks' details, lists and versions."""

    def __init__(self, registry: TaskRegistry) -> None:
        self._registry = registry

    async def get_task_details(
        self, request: task_service_pb2.GetTaskDetailsRequest, ctx: RequestContext
    ) -> task_service_pb2.GetTaskDetailsResponse:
        return task_service_pb2.GetTaskDetailsResponse(details=self._registry.get(request.task_id).details())

    async def list_tasks(self, request: task_service_pb2.ListTasksRequest, ctx: RequestContext) -> task_service_pb2.ListTasksResponse:
        deployed = self._registry.versions(request.project_id.name, request.project_id.domain)
        found = listing.filtered(deployed, request.request, _TASK_FIELDS)
        if listing.newest_first(request.request, default=False):
            found.reverse()
        chunk, token = listing.page(found, request.request)
        return task_service_pb2.ListTasksResponse(
            tasks=[t.summary() for t in chunk],
            token=token,
            metadata=task_service_pb2.ListTasksResponse.ListTasksMetadata(total=len(deployed), filtered_total=len(found)),
        )

    async def list_versions(
        self, request: task_service_pb2.ListVersionsRequest, ctx: RequestContext
    ) -> task_service_pb2.ListVersionsResponse:
        name = request.task_name
        versions = list(reversed(self._registry.versions(name.project, name.domain, name.name)))  # newest first
        chunk, token = listing.page(versions, request.request)
        answers = []
        for task in chunk:
            answer = task_service_pb2.ListVersionsResponse.VersionResponse(version=task.task_id.version)
            answer.deployed_at.FromNanoseconds(int(task.deployed_at * 1e9))
            answers.append(answer)
        return task_service_pb2.ListVersionsResponse(versions=answers, token=token)


class LocalDataProxyService(DataProxyService):
    """DataProxyService: takes the SDK's offloaded inputs, gives back a run's inputs and outputs, and tails
    its task's log (stdout and stderr of its process, as the SDK's ``Run.get_logs`` reads it)."""

    def __init__(self, runs: RunStore, inputs: InputStore) -> None:
        self._runs = runs
        self._inputs = inputs

    async def upload_inputs(
        self, request: dataproxy_service_pb2.UploadInputsRequest, ctx: RequestContext
    ) -> dataproxy_service_pb2.UploadInputsResponse:
        return dataproxy_service_pb2.UploadInputsResponse(offloaded_input_data=self._inputs.put(request.inputs))

    async def get_action_data(
        self, request: dataproxy_service_pb2.GetActionDataRequest, ctx: RequestContext
    ) -> dataproxy_service_pb2.GetActionDataResponse:
        run = self._runs.get_action(request.action_id)
        response = dataproxy_service_pb2.GetActionDataResponse(inputs=run.inputs)
        if run.outputs is not None:
            response.outputs.CopyFrom(run.outputs)
        return response


    async def tail_logs(
        self, request: dataproxy_service_pb2.TailLogsRequest, ctx: RequestContext
    ) -> AsyncIterator[dataproxy_service_pb2.TailLogsResponse]:
        run = self._runs.get_action(request.action_id)
        if request.attempt not in (0, 1):
            raise ConnectError(Code.NOT_FOUND, f"attempt {request.attempt} not found: this service runs each action once")
        async for lines in self._runs.log_lines(run):
            batch = [
                logs_pb2.LogLine(message=line, originator=logs_pb2.LogLineOriginator.USER, timestamp=_now())
                for line in lines
            ]
            yield dataproxy_service_pb2.TailLogsResponse(logs=[dataproxy_service_pb2.TailLogsResponse.Logs(lines=batch)])


def _now() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp


class LocalClusterService(ClusterService):
    """ClusterService: every operation is served here (an empty endpoint means "this control plane")."""

    async def select_cluster(
        self, request: cluster_pb2.SelectClusterRequest, ctx: RequestContext
    ) -> cluster_pb2.SelectClusterResponse:
        return cluster_pb2.SelectClusterResponse()


class LocalAuthMetadataService(AuthMetadataService):
    """AuthMetadataService: without auth, empty answers (no OAuth2 server, nothing to configure); with
    client-credentials auth, the token endpoint on this service's own address (the caller's Host)."""

    def __init__(self, issuer: auth.TokenIssuer | None) -> None:
        self._issuer = issuer

    async def get_o_auth2_metadata(
        self, request: auth_service_pb2.GetOAuth2MetadataRequest, ctx: RequestContext
    ) -> auth_service_pb2.GetOAuth2MetadataResponse:
        if self._issuer is None:
            return auth_service_pb2.GetOAuth2MetadataResponse()
        base = f"http://{ctx.request_headers().get('host', '127.0.0.1')}"
        return auth_service_pb2.GetOAuth2MetadataResponse(
            issuer=base,
            token_endpoint=base + auth.TOKEN_PATH,
            grant_types_supported=["client_credentials"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        )

    async def get_public_client_config(
        self, request: auth_service_pb2.GetPublicClientConfigRequest, ctx: RequestContext
    ) -> auth_service_pb2.GetPublicClientConfigResponse:
        if self._issuer is None:
            return auth_service_pb2.GetPublicClientConfigResponse()
        return auth_service_pb2.GetPublicClientConfigResponse(authorization_metadata_key="authorization")
