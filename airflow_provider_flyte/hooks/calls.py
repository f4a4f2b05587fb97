"""The FlyteAdmin calls the provider makes, each defined once for the blocking and asyncio clients.

A call is its RPC, its request, the answers that are outcomes rather than errors (NOT_FOUND for
"no such execution"...) and how its answer is read. ``FlyteHook`` runs calls on the blocking
client of a worker, its ``a``-methods and the triggerer's watcher on the shared asyncio client:
the same request and the same reading, with only the ``await`` between them.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from airflow_provider_flyte.hooks.connection import FlyteConnectionConfig
from airflow_provider_flyte.phases import ExecutionState

if TYPE_CHECKING:
    from airflow_provider_flyte.hooks.admin_client import AdminClient, AsyncAdminClient

T = TypeVar("T")


def _as_is(answer: Any) -> Any:
    return answer


@dataclass(frozen=True)
class AdminCall(Generic[T]):
    method: str
    request: Any
    unless: tuple[str, ...] = ()
    read: Callable[[Any], T] = field(default=_as_is)

    def run(self, client: AdminClient, **budget: Any) -> T:
        """``budget``: ``timeout`` / ``retries`` for this call instead of the connection's."""
        return self.read(client.call_unless(self.method, self.request, *self.unless, **budget))

    async def arun(self, client: AsyncAdminClient, **budget: Any) -> T:
        return self.read(await client.call_unless(self.method, self.request, *self.unless, **budget))


# A conversation with FlyteAdmin: yields calls, gets their answers back, returns what it concludes.
Program = Generator["AdminCall[Any]", Any, T]


def drive(program: Program[T], client: AdminClient) -> T:
    """Run a program on the blocking client."""
    try:
        call = next(program)
        while True:
            call = program.send(call.run(client))
    except StopIteration as done:
        return done.value


async def adrive(program: Program[T], client: AsyncAdminClient) -> T:
    """Run the same program on the asyncio client."""
    try:
        call = next(program)
        while True:
            call = program.send(await call.arun(client))
    except StopIteration as done:
        return done.value


def gate_nodes(project: str, domain: str, name: str) -> Program[dict[str, tuple[str, str]]]:
    """signal id -> (node id, kind) of the gate nodes of the execution's workflow: its launch
    plan, then that plan's workflow, then the template (a single task has none)."""
    from airflow_provider_flyte.hooks import admin_messages as m
    from airflow_provider_flyte.signals.pending import template_gates

    execution = yield AdminCall("GetExecution", m.execution_request(project, domain, name))
    lp = execution.spec.launch_plan
    if lp.resource_type != m.LAUNCH_PLAN:
        return {}
    plan = yield AdminCall("GetLaunchPlan", m.object_request(m.LAUNCH_PLAN, lp.project, lp.domain, lp.name, lp.version))
    wf = plan.spec.workflow_id
    workflow = yield AdminCall("GetWorkflow", m.object_request(m.WORKFLOW, wf.project, wf.domain, wf.name, wf.version))
    return template_gates(workflow.closure.compiled_workflow.primary.template)


def find_execution(config: FlyteConnectionConfig, project: str, domain: str, name: str) -> AdminCall[ExecutionState | None]:
    """The execution's state, or None when FlyteAdmin has no execution by that name."""
    from airflow_provider_flyte.hooks import admin_messages as m

    url = config.execution_url(project, domain, name)
    return AdminCall(
        "GetExecution",
        m.execution_request(project, domain, name),
        ("NOT_FOUND",),
        lambda execution: None if execution is None else m.state_from_execution(execution, url),
    )


def terminate(project: str, domain: str, name: str, cause: str) -> AdminCall[bool]:
    """Abort; False when the execution had already finished (or never started)."""
    from airflow_provider_flyte.hooks import admin_messages as m

    return AdminCall(
        "TerminateExecution",
        m.terminate_request(project, domain, name, cause),
        ("FAILED_PRECONDITION", "NOT_FOUND"),
        lambda answer: answer is not None,
    )


def execution_data(project: str, domain: str, name: str) -> AdminCall[Any]:
    """GetExecutionData's answer; ``literals.resolve_data`` reads what FlyteAdmin offloaded."""
    from airflow_provider_flyte.hooks import admin_messages as m

    return AdminCall("GetExecutionData", m.data_request(project, domain, name))


def list_signals(project: str, domain: str, name: str, limit: int = 100) -> AdminCall[list[Any]]:
    """The execution's signals (gate nodes that started), answered or not."""
    from flyteidl.admin import signal_pb2

    from airflow_provider_flyte.hooks import admin_messages as m

    request = signal_pb2.SignalListRequest(workflow_execution_id=m.execution_id(project, domain, name), limit=limit)
    return AdminCall("ListSignals", request, read=lambda answer: list(answer.signals))


def set_signal(project: str, domain: str, name: str, signal_id: str, value: Any) -> AdminCall[Any]:
    """Answer a gate: ``value`` is the Literal (FlyteAdmin checks it against the signal's type)."""
    from flyteidl.admin import signal_pb2
    from flyteidl.core import identifier_pb2

    from airflow_provider_flyte.hooks import admin_messages as m

    identifier = identifier_pb2.SignalIdentifier(signal_id=signal_id, execution_id=m.execution_id(project, domain, name))
    return AdminCall("SetSignal", signal_pb2.SignalSetRequest(id=identifier, value=value))

