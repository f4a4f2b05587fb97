"""The AdminService RPCs: request parsing and responses, delegating to registry, store and runner.

Errors are raised as `AdminError` anywhere below and turned into gRPC statuses here, once.
RPCs not overridden answer UNIMPLEMENTED, which is what grpc's generated base class does.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import TypeVar

import grpc
from flyteidl.admin import (
    common_pb2,
    execution_pb2,
    launch_plan_pb2,
    node_execution_pb2,
    task_execution_pb2,
    task_pb2,
    version_pb2,
    workflow_pb2,
)
from flyteidl.core import identifier_pb2, literals_pb2
from flyteidl.service import admin_pb2_grpc

from airflow_provider_flyte.local_admin.data import offloadable
from airflow_provider_flyte.local_admin.errors import (
    AdminError,
    invalid_argument,
    not_found,
)
from airflow_provider_flyte.local_admin.executions import (
    PHASES,
    TERMINAL_PHASES,
    ExecutionStore,
    describe_execution_id,
)
from airflow_provider_flyte.local_admin.filters import execution_filters
from airflow_provider_flyte.local_admin.listing import listed_execution
from airflow_provider_flyte.local_admin.nodes import (
    node_data_files,
    read_node_executions,
    succeeded_node_outputs,
)
from airflow_provider_flyte.local_admin.protos import now
from airflow_provider_flyte.local_admin.registry import Registry
from airflow_provider_flyte.local_admin.runner import OUTPUTS_FILE, ExecutionRunner, system_failure
from airflow_provider_flyte.local_admin.validation import (
    check_request_fields,
    check_spec,
    generated_name,
    merged_inputs,
)
from airflow_provider_flyte.local_admin.worker import INPUTS_FILE

ADMIN_VERSION = "v1.16.8-local"
_MAX_INTERNAL_MESSAGE = 300
_log = logging.getLogger(__name__)
Handler = TypeVar("Handler", bound=Callable)


def answers_errors(method: Handler) -> Handler:
    @functools.wraps(method)
    def handle(self: AdminService, request, context: grpc.ServicerContext):
        try:
            return method(self, request, context)
        except AdminError as error:
            context.abort(error.code, error.message)
        except Exception as error:  # noqa: BLE001 - flyteadmin answers INTERNAL, with a short message
            _log.exception("unexpected error in %s", method.__name__)
            context.abort(grpc.StatusCode.INTERNAL, str(error)[:_MAX_INTERNAL_MESSAGE])

    return handle  # type: ignore[return-value]


def _page_offset(request) -> int:
    """Checks a list request's limit and token (before its filters, as flyteadmin); returns the offset."""
    check_limit(request)
    return token_offset(request)


def check_limit(request) -> None:
    if request.limit == 0:
        raise invalid_argument("invalid value for limit")


def token_offset(request, listing: str = "") -> int:
    """The decimal offset a list's page token stands for; ``listing`` names the list in the
    error where flyteadmin does (``for ListSignals``)."""
    try:
        offset = int(request.token) if request.token else 0
    except ValueError:
        offset = -1
    if offset < 0:
        raise invalid_argument(f"invalid pagination token {request.token}" + (f" for {listing}" if listing else ""))
    return offset


def _paginate(items: list, request) -> tuple[list, str]:
    """flyteadmin's paging: a decimal offset token, handed back only when a full page came back."""
    offset = _page_offset(request)
    if request.HasField("sort_by"):
        descending = request.sort_by.direction == common_pb2.Sort.DESCENDING
        key = request.sort_by.key
        items = sorted(items, key=lambda item: _sort_value(item, key), reverse=descending)
    page = items[offset : offset + request.limit]
    token = str(offset + request.limit) if len(page) == request.limit else ""
    return page, token


def _no_filters(request) -> None:
    """For the list calls whose filters are not modelled: refusing beats ignoring them."""
    if request.filters:
        raise AdminError(grpc.StatusCode.UNIMPLEMENTED, "flyte-local-admin does not support filters on this list")


def _sort_value(item, key: str):
    if key in ("name", "version"):
        return getattr(item.id, key)
    if key == "execution_name":
        return item.id.name
    closure = item.closure
    if key in ("updated_at", "execution_updated_at") and closure.HasField("updated_at"):
        return closure.updated_at.ToNanoseconds()
    return closure.created_at.ToNanoseconds() if closure.HasField("created_at") else 0


def _check_list_scope(request: common_pb2.ResourceListRequest) -> None:
    if not request.id.project:
        raise invalid_argument("missing project")
    if not request.id.domain:
        raise invalid_argument("missing domain")


class AdminService(admin_pb2_grpc.AdminServiceServicer):
    def __init__(
        self,
        registry: Registry,
        store: ExecutionStore,
        runner: ExecutionRunner,
        identify: Callable[[grpc.ServicerContext], str] = lambda context: "",
    ) -> None:
        """`identify` names the caller; flyteadmin records it as principal ("" without auth)."""
        self._registry = registry
        self._store = store
        self._runner = runner
        self._identify = identify

    @answers_errors
    def GetVersion(self, request, context) -> version_pb2.GetVersionResponse:
        return version_pb2.GetVersionResponse(
            control_plane_version=version_pb2.Version(Build="local", Version=ADMIN_VERSION, BuildTime="")
        )

    @answers_errors
    def GetTask(self, request, context) -> task_pb2.Task:
        return self._registry.task(request.id)

    @answers_errors
    def ListTasks(self, request, context) -> task_pb2.TaskList:
        _check_list_scope(request)
        _no_filters(request)
        tasks, token = _paginate(self._registry.tasks(request.id.project, request.id.domain, request.id.name), request)
        return task_pb2.TaskList(tasks=tasks, token=token)

    @answers_errors
    def GetWorkflow(self, request, context) -> workflow_pb2.Workflow:
        return self._registry.workflow(request.id)

    @answers_errors
    def ListWorkflows(self, request, context) -> workflow_pb2.WorkflowList:
        _check_list_scope(request)
        _no_filters(request)
        scope = request.id
        workflows, token = _paginate(self._registry.workflows(scope.project, scope.domain, scope.name), request)
        return workflow_pb2.WorkflowList(workflows=workflows, token=token)

    @answers_errors
    def GetLaunchPlan(self, request, context) -> launch_plan_pb2.LaunchPlan:
        return self._registry.launch_plan(request.id)

    @answers_errors
    def GetActiveLaunchPlan(self, request, context) -> launch_plan_pb2.LaunchPlan:
        return self._registry.active_launch_plan(request.id.project, request.id.domain, request.id.name)

    @answers_errors
    def ListLaunchPlans(self, request, context) -> launch_plan_pb2.LaunchPlanList:
        _check_list_scope(request)
        _no_filters(request)
        scope = request.id
        launch_plans, token = _paginate(self._registry.launch_plans(scope.project, scope.domain, scope.name), request)
        return launch_plan_pb2.LaunchPlanList(launch_plans=launch_plans, token=token)

    @answers_errors
    def CreateExecution(self, request, context) -> execution_pb2.ExecutionCreateResponse:
        user_inputs = request.inputs if request.inputs.literals else request.spec.inputs
        return execution_pb2.ExecutionCreateResponse(id=self._launch(request, user_inputs, self._identify(context)))

    @answers_errors
    def RecoverExecution(self, request, context) -> execution_pb2.ExecutionCreateResponse:
        """Same spec and inputs; nodes that succeeded in the original keep their outputs and do not run."""
        original = self._store.get(request.id)
        recovered = succeeded_node_outputs(self._runner.work_dir(original.id))
        relaunch = self._relaunch_request(original, request.name, execution_pb2.ExecutionMetadata.RECOVERED)
        return execution_pb2.ExecutionCreateResponse(
            id=self._launch(relaunch, self._store.user_inputs(original.id), self._identify(context), recovered)
        )

    @answers_errors
    def RelaunchExecution(self, request, context) -> execution_pb2.ExecutionCreateResponse:
        original = self._store.get(request.id)
        relaunch = self._relaunch_request(original, request.name, execution_pb2.ExecutionMetadata.RELAUNCH)
        relaunch.spec.overwrite_cache = request.overwrite_cache
        user_inputs = self._store.user_inputs(original.id)
        return execution_pb2.ExecutionCreateResponse(id=self._launch(relaunch, user_inputs, self._identify(context)))

    @answers_errors
    def GetExecution(self, request, context) -> execution_pb2.Execution:
        return self._store.get(request.id)

    @answers_errors
    def ListExecutions(self, request, context) -> execution_pb2.ExecutionList:
        """As flyteadmin: error messages trimmed to 100 bytes, deprecated input fields cleared."""
        _check_list_scope(request)
        _page_offset(request)
        matches = execution_filters(request.filters)
        candidates = self._store.select(request.id.project, request.id.domain, matches.names)
        page, token = _paginate([execution for execution in candidates if matches(execution)], request)
        return execution_pb2.ExecutionList(executions=[listed_execution(e) for e in page], token=token)

    @answers_errors
    def GetExecutionData(self, request, context) -> execution_pb2.WorkflowExecutionGetDataResponse:
        self._store.get(request.id)
        work_dir = self._runner.work_dir(request.id)
        inputs_blob, full_inputs = offloadable(work_dir / INPUTS_FILE)
        outputs_blob, full_outputs = offloadable(work_dir / OUTPUTS_FILE)
        return execution_pb2.WorkflowExecutionGetDataResponse(
            inputs=inputs_blob, outputs=outputs_blob, full_inputs=full_inputs, full_outputs=full_outputs
        )

    @answers_errors
    def TerminateExecution(self, request, context) -> execution_pb2.ExecutionTerminateResponse:
        aborting = execution_pb2.AbortMetadata(cause=request.cause, principal=self._identify(context))
        if not self._store.transition(request.id, PHASES.ABORTING, abort_metadata=aborting):
            if self._store.get(request.id).closure.phase in TERMINAL_PHASES:
                raise AdminError(
                    grpc.StatusCode.FAILED_PRECONDITION, "Cannot abort an already terminated workflow execution"
                )
            return execution_pb2.ExecutionTerminateResponse()  # already aborting: repeating is allowed
        self._runner.abort(request.id)
        return execution_pb2.ExecutionTerminateResponse()

    @answers_errors
    def ListNodeExecutions(self, request, context) -> node_execution_pb2.NodeExecutionList:
        """The top-level nodes recorded so far (a node appears once it starts); none has children."""
        self._store.get(request.workflow_execution_id)
        _no_filters(request)
        nodes = [] if request.unique_parent_id else self._node_executions(request.workflow_execution_id)
        page, token = _paginate(nodes, request)
        return node_execution_pb2.NodeExecutionList(node_executions=page, token=token)

    @answers_errors
    def ListTaskExecutions(self, request, context) -> task_execution_pb2.TaskExecutionList:
        """Task attempts are not modelled separately from their node: a node's list is empty."""
        self._node_execution(request.node_execution_id)
        _no_filters(request)
        _paginate([], request)
        return task_execution_pb2.TaskExecutionList()

    @answers_errors
    def GetNodeExecution(self, request, context) -> node_execution_pb2.NodeExecution:
        return self._node_execution(request.id)

    @answers_errors
    def GetNodeExecutionData(self, request, context) -> node_execution_pb2.NodeExecutionGetDataResponse:
        self._node_execution(request.id)
        inputs_file, outputs_file = node_data_files(self._runner.work_dir(request.id.execution_id), request.id.node_id)
        inputs_blob, full_inputs = offloadable(inputs_file)
        outputs_blob, full_outputs = offloadable(outputs_file)
        return node_execution_pb2.NodeExecutionGetDataResponse(
            inputs=inputs_blob, outputs=outputs_blob, full_inputs=full_inputs, full_outputs=full_outputs
        )

    def _launch(
        self,
        request: execution_pb2.ExecutionCreateRequest,
        user_inputs: literals_pb2.LiteralMap,
        principal: str,
        recovered: Mapping[str, literals_pb2.LiteralMap] | None = None,
    ) -> identifier_pb2.WorkflowExecutionIdentifier:
        """CreateExecution's validation and start, shared by recover and relaunch (as in flyteadmin)."""
        check_request_fields(request)
        self._registry.check_registered(request.project, request.domain)
        reference = check_spec(request)
        if reference.resource_type == identifier_pb2.TASK:
            launch_plan = self._registry.task_launch_plan(reference)
        else:
            launch_plan = self._registry.launch_plan(reference)
        inputs = merged_inputs(user_inputs, launch_plan)
        execution = self._new_execution(request, launch_plan, inputs, principal)
        self._store.create(execution, user_inputs)
        try:
            self._runner.submit(execution.id, self._registry.runnable(launch_plan.spec.workflow_id), inputs, recovered)
        except Exception as error:  # noqa: BLE001 - as flyteadmin: created, then stored FAILED (facts, rule 8)
            _log.exception("starting execution %s failed", execution.id.name)
            self._store.transition(execution.id, PHASES.FAILED, system_failure(f"could not start the execution: {error}"))
        return execution.id

    @staticmethod
    def _relaunch_request(
        original: execution_pb2.Execution, name: str, mode: int
    ) -> execution_pb2.ExecutionCreateRequest:
        spec = execution_pb2.ExecutionSpec()
        spec.CopyFrom(original.spec)
        spec.metadata.mode = mode
        spec.metadata.reference_execution.CopyFrom(original.id)
        return execution_pb2.ExecutionCreateRequest(
            project=original.id.project, domain=original.id.domain, name=name or generated_name(), spec=spec
        )

    def _node_executions(
        self, execution_id: identifier_pb2.WorkflowExecutionIdentifier
    ) -> list[node_execution_pb2.NodeExecution]:
        return read_node_executions(self._runner.work_dir(execution_id), execution_id)

    def _node_execution(self, node_id: identifier_pb2.NodeExecutionIdentifier) -> node_execution_pb2.NodeExecution:
        self._store.get(node_id.execution_id)
        for node in self._node_executions(node_id.execution_id):
            if node.id.node_id == node_id.node_id:
                return node
        raise not_found(
            f"missing entity of type node execution with identifier node_id:\"{node_id.node_id}\" "
            f"execution_id:<{describe_execution_id(node_id.execution_id)}>"
        )

    def _new_execution(self, request, launch_plan, inputs, principal: str) -> execution_pb2.Execution:
        spec = execution_pb2.ExecutionSpec()
        spec.CopyFrom(request.spec)
        spec.metadata.principal = principal  # flyteadmin overwrites it with the authenticated user
        created = now()
        return execution_pb2.Execution(
            id={"project": request.project, "domain": request.domain, "name": request.name or generated_name()},
            spec=spec,
            closure=execution_pb2.ExecutionClosure(
                phase=PHASES.UNDEFINED,
                computed_inputs=inputs,
                created_at=created,
                updated_at=created,
                workflow_id=launch_plan.spec.workflow_id,
            ),
        )
