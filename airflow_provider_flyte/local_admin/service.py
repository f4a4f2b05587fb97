"""The AdminService RPCs: request parsing and responses, delegating to registry, store and runner.

Errors are raised as `AdminError` anywhere below and turned into gRPC statuses here, once.
RPCs not overridden answer UNIMPLEMENTED, which is what grpc's generated base class does.
"""

from __future__ import annotations

import functools
import logging
from typing import Callable, TypeVar

import grpc
from flyteidl.admin import (
    common_pb2,
    execution_pb2,
    launch_plan_pb2,
    node_execution_pb2,
    task_pb2,
    version_pb2,
    workflow_pb2,
)
from flyteidl.service import admin_pb2_grpc

from airflow_provider_flyte.local_admin.errors import AdminError, invalid_argument
from airflow_provider_flyte.local_admin.executions import PHASES, TERMINAL_PHASES, ExecutionStore, now
from airflow_provider_flyte.local_admin.registry import Registry
from airflow_provider_flyte.local_admin.runner import ExecutionRunner
from airflow_provider_flyte.local_admin.validation import (
    check_request_fields,
    check_spec,
    generated_name,
    merged_inputs,
)

ADMIN_VERSION = "v1.16.8-local"
_MAX_INTERNAL_MESSAGE = 300
_log = logging.getLogger(__name__)
Handler = TypeVar("Handler", bound=Callable)


def _answers_errors(method: Handler) -> Handler:
    @functools.wraps(method)
    def handle(self: "AdminService", request, context: grpc.ServicerContext):
        try:
            return method(self, request, context)
        except AdminError as error:
            context.abort(error.code, error.message)
        except Exception as error:  # noqa: BLE001 - flyteadmin answers INTERNAL, with a short message
            _log.exception("unexpected error in %s", method.__name__)
            context.abort(grpc.StatusCode.INTERNAL, str(error)[:_MAX_INTERNAL_MESSAGE])

    return handle  # type: ignore[return-value]


def _paginate(items: list, request: common_pb2.ResourceListRequest) -> tuple[list, str]:
    """flyteadmin's paging: a decimal offset token, handed back only when a full page came back."""
    if request.limit == 0:
        raise invalid_argument("invalid value for limit")
    if request.filters:
        raise AdminError(grpc.StatusCode.UNIMPLEMENTED, "flyte-local-admin does not support list filters yet")
    try:
        offset = int(request.token) if request.token else 0
    except ValueError:
        raise invalid_argument(f"invalid pagination token {request.token}") from None
    if request.HasField("sort_by"):
        descending = request.sort_by.direction == common_pb2.Sort.DESCENDING
        key = request.sort_by.key
        items = sorted(items, key=lambda item: _sort_value(item, key), reverse=descending)
    page = items[offset : offset + request.limit]
    token = str(offset + request.limit) if len(page) == request.limit else ""
    return page, token


def _sort_value(item, key: str):
    if key in ("name", "version"):
        return getattr(item.id, key)
    closure = item.closure
    return closure.created_at.ToNanoseconds() if closure.HasField("created_at") else 0


def _check_list_scope(request: common_pb2.ResourceListRequest) -> None:
    if not request.id.project:
        raise invalid_argument("missing project")
    if not request.id.domain:
        raise invalid_argument("missing domain")


class AdminService(admin_pb2_grpc.AdminServiceServicer):
    def __init__(self, registry: Registry, store: ExecutionStore, runner: ExecutionRunner) -> None:
        self._registry = registry
        self._store = store
        self._runner = runner

    @_answers_errors
    def GetVersion(self, request, context) -> version_pb2.GetVersionResponse:
        return version_pb2.GetVersionResponse(
            control_plane_version=version_pb2.Version(Build="local", Version=ADMIN_VERSION, BuildTime="")
        )

    @_answers_errors
    def GetTask(self, request, context) -> task_pb2.Task:
        return self._registry.task(request.id)

    @_answers_errors
    def ListTasks(self, request, context) -> task_pb2.TaskList:
        _check_list_scope(request)
        tasks, token = _paginate(self._registry.tasks(request.id.project, request.id.domain, request.id.name), request)
        return task_pb2.TaskList(tasks=tasks, token=token)

    @_answers_errors
    def GetWorkflow(self, request, context) -> workflow_pb2.Workflow:
        return self._registry.workflow(request.id)

    @_answers_errors
    def ListWorkflows(self, request, context) -> workflow_pb2.WorkflowList:
        _check_list_scope(request)
        scope = request.id
        workflows, token = _paginate(self._registry.workflows(scope.project, scope.domain, scope.name), request)
        return workflow_pb2.WorkflowList(workflows=workflows, token=token)

    @_answers_errors
    def GetLaunchPlan(self, request, context) -> launch_plan_pb2.LaunchPlan:
        return self._registry.launch_plan(request.id)

    @_answers_errors
    def GetActiveLaunchPlan(self, request, context) -> launch_plan_pb2.LaunchPlan:
        return self._registry.active_launch_plan(request.id.project, request.id.domain, request.id.name)

    @_answers_errors
    def ListLaunchPlans(self, request, context) -> launch_plan_pb2.LaunchPlanList:
        _check_list_scope(request)
        scope = request.id
        launch_plans, token = _paginate(self._registry.launch_plans(scope.project, scope.domain, scope.name), request)
        return launch_plan_pb2.LaunchPlanList(launch_plans=launch_plans, token=token)

    @_answers_errors
    def CreateExecution(self, request, context) -> execution_pb2.ExecutionCreateResponse:
        check_request_fields(request)
        self._registry.check_registered(request.project, request.domain)
        launch_plan = self._registry.launch_plan(check_spec(request))
        user_inputs = request.inputs if request.inputs.literals else request.spec.inputs
        inputs = merged_inputs(user_inputs, launch_plan)
        execution = self._new_execution(request, launch_plan, inputs)
        self._store.create(execution)
        self._runner.submit(execution.id, self._registry.runnable(launch_plan.spec.workflow_id), inputs)
        return execution_pb2.ExecutionCreateResponse(id=execution.id)

    @_answers_errors
    def GetExecution(self, request, context) -> execution_pb2.Execution:
        return self._store.get(request.id)

    @_answers_errors
    def GetExecutionData(self, request, context) -> execution_pb2.WorkflowExecutionGetDataResponse:
        execution = self._store.get(request.id)
        return execution_pb2.WorkflowExecutionGetDataResponse(
            full_inputs=execution.closure.computed_inputs, full_outputs=self._store.outputs(request.id)
        )

    @_answers_errors
    def TerminateExecution(self, request, context) -> execution_pb2.ExecutionTerminateResponse:
        # Without authentication flyteadmin records an empty principal, and so does this admin.
        aborting = execution_pb2.AbortMetadata(cause=request.cause, principal="")
        if not self._store.transition(request.id, PHASES.ABORTING, abort_metadata=aborting):
            if self._store.get(request.id).closure.phase in TERMINAL_PHASES:
                raise AdminError(
                    grpc.StatusCode.FAILED_PRECONDITION, "Cannot abort an already terminated workflow execution"
                )
            return execution_pb2.ExecutionTerminateResponse()  # already aborting: repeating is allowed
        self._runner.abort(request.id)
        return execution_pb2.ExecutionTerminateResponse()

    @_answers_errors
    def ListNodeExecutions(self, request, context) -> node_execution_pb2.NodeExecutionList:
        """Node-level tracking is not modelled yet; an empty list is what flyteadmin shows before nodes start."""
        if request.limit == 0:
            raise invalid_argument("invalid value for limit")
        self._store.get(request.workflow_execution_id)
        return node_execution_pb2.NodeExecutionList()

    def _new_execution(self, request, launch_plan, inputs) -> execution_pb2.Execution:
        spec = execution_pb2.ExecutionSpec()
        spec.CopyFrom(request.spec)
        spec.metadata.principal = ""  # flyteadmin overwrites it with the authenticated user
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
