"""FlyteHook: the FlyteAdmin client behind an Airflow ``flyte`` connection.

Importing this module is cheap (DAG files import the operator, which imports this): grpc,
flyteidl and flytekit load on first use, and the client is built once per hook instance. The
``a``-methods are the same calls (``calls``) for the event loop, on the loop's shared client.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, AsyncContextManager, Mapping

from airflow.sdk import BaseHook

from airflow_provider_flyte.exceptions import FlyteEntityNotFound
from airflow_provider_flyte.hooks.connection import FlyteConnectionConfig
from airflow_provider_flyte.phases import ExecutionState

if TYPE_CHECKING:
    from airflow_provider_flyte.hooks.admin_client import AdminClient, AsyncAdminClient
    from airflow_provider_flyte.hooks.admin_messages import LaunchOptions, LaunchTarget


def config_from_connection(conn: Any, extra: Mapping[str, Any]) -> FlyteConnectionConfig:
    return FlyteConnectionConfig.from_parts(
        conn.conn_id, host=conn.host, port=conn.port, login=conn.login, password=conn.password, extra=extra
    )


class FlyteHook(BaseHook):
    """Talks to FlyteAdmin: resolve launch plans and tasks, launch, watch, terminate, read outputs."""

    conn_name_attr = "flyte_conn_id"
    default_conn_name = "flyte_default"
    conn_type = "flyte"
    hook_name = "Flyte"

    def __init__(self, flyte_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flyte_conn_id = flyte_conn_id

    @cached_property
    def config(self) -> FlyteConnectionConfig:
        conn = self.get_connection(self.flyte_conn_id)
        return config_from_connection(conn, conn.extra_dejson)

    @cached_property
    def client(self) -> AdminClient:
        from airflow_provider_flyte.hooks.admin_client import AdminClient, AsyncAdminClient

        return AdminClient(self.config)

    def get_conn(self) -> AdminClient:
        return self.client

    def _shared_client(self) -> AsyncContextManager[AsyncAdminClient]:
        """The ``a``-methods run on the event loop's shared client (one channel and token per
        connection per loop, see ``watcher/pool``), never on a client of their own."""
        from airflow_provider_flyte.watcher.pool import ClientPool

        return ClientPool.current().client(self.flyte_conn_id)

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()
            del self.__dict__["client"]

    def project_domain(self, project: str | None, domain: str | None) -> tuple[str, str]:
        """The given project/domain, else the connection's defaults; both are required."""
        project = project or self.config.project
        domain = domain or self.config.domain
        if not project or not domain:
            raise ValueError(
                f"No Flyte project/domain given and connection {self.flyte_conn_id!r} has no default "
                f"(project={project!r}, domain={domain!r}); set them on the task or in the connection's extras"
            )
        return project, domain

    # -- resolving what to launch -------------------------------------------------------------

    def resolve_launch_plan(self, project: str, domain: str, name: str, version: str | None = None) -> LaunchTarget:
        """The given version; else the active version; else the newest registered one."""
        from airflow_provider_flyte.hooks import admin_messages as m

        if version:
            lp = self.client.call_unless(
                "GetLaunchPlan", m.object_request(m.LAUNCH_PLAN, project, domain, name, version), "NOT_FOUND"
            )
            if lp is None:
                raise FlyteEntityNotFound(f"Launch plan {project}/{domain}/{name} version {version!r} is not registered")
            return m.target_from_launch_plan(lp)
        active = self.client.call_unless(
            "GetActiveLaunchPlan", m.active_launch_plan_request(project, domain, name), "NOT_FOUND"
        )
        if active is not None:
            return m.target_from_launch_plan(active)
        listed = self.client.call("ListLaunchPlans", m.newest_first(project, domain, name)).launch_plans
        if not listed:
            raise FlyteEntityNotFound(f"No launch plan named {name!r} is registered in {project}/{domain}")
        return m.target_from_launch_plan(listed[0])

    def resolve_task(self, project: str, domain: str, name: str, version: str | None = None) -> LaunchTarget:
        """The given version, else the newest registered one."""
        from airflow_provider_flyte.hooks import admin_messages as m

        if version:
            task = self.client.call_unless("GetTask", m.object_request(m.TASK, project, domain, name, version), "NOT_FOUND")
            if task is None:
                raise FlyteEntityNotFound(f"Task {project}/{domain}/{name} version {version!r} is not registered")
            return m.target_from_task(task)
        listed = self.client.call("ListTasks", m.newest_first(project, domain, name)).tasks
        if not listed:
            raise FlyteEntityNotFound(f"No task named {name!r} is registered in {project}/{domain}")
        return m.target_from_task(listed[0])

    # -- executions -------------------------------------------------------------------------------

    def launch(
        self, target: LaunchTarget, name: str, inputs: Mapping[str, Any], options: LaunchOptions
    ) -> ExecutionState:
        """Create the execution ``name``; if it already exists (a retry, a lost response), adopt it.

        Inputs are checked and converted before anything is sent, so a bad input launches nothing.
        """
        from airflow_provider_flyte.hooks import admin_messages as m
        from airflow_provider_flyte.hooks.literals import build_inputs

        request = m.create_request(target, name, build_inputs(target, inputs), options)
        if self.client.call_unless("CreateExecution", request, "ALREADY_EXISTS") is None:
            self.log.info("Execution %s already exists; adopting it instead of launching again", name)
        i = target.identifier
        return self.get_execution(i.project, i.domain, name)

    def find_execution(self, project: str, domain: str, name: str) -> ExecutionState | None:
        """The execution's state, or None if FlyteAdmin has no execution by that name."""
        from airflow_provider_flyte.hooks import calls

        return calls.find_execution(self.config, project, domain, name).run(self.client)

    async def afind_execution(self, project: str, domain: str, name: str) -> ExecutionState | None:
        from airflow_provider_flyte.hooks import calls

        async with self._shared_client() as client:
            return await calls.find_execution(client.config, project, domain, name).arun(client)

    def get_execution(self, project: str, domain: str, name: str) -> ExecutionState:
        state = self.find_execution(project, domain, name)
        if state is None:
            raise FlyteEntityNotFound(f"Flyte execution {project}/{domain}/{name} does not exist")
        return state

    def terminate(self, project: str, domain: str, name: str, cause: str, **budget: Any) -> bool:
        """Ask FlyteAdmin to abort; False when the execution had already finished (or never started).

        ``budget``: ``timeout`` / ``retries`` for this call instead of the connection's.
        """
        from airflow_provider_flyte.hooks import calls

        return calls.terminate(project, domain, name, cause).run(self.client, **budget)

    async def aterminate(self, project: str, domain: str, name: str, cause: str, **budget: Any) -> bool:
        from airflow_provider_flyte.hooks import calls

        async with self._shared_client() as client:
            return await calls.terminate(project, domain, name, cause).arun(client, **budget)

    def recover(self, project: str, domain: str, name: str, new_name: str) -> ExecutionState:
        """Start ``new_name`` as a recovery of ``name``: nodes that succeeded are not run again."""
        from airflow_provider_flyte.hooks import admin_messages as m

        self.client.call_unless("RecoverExecution", m.recover_request(project, domain, name, new_name), "ALREADY_EXISTS")
        return self.get_execution(project, domain, new_name)

    def relaunch(self, project: str, domain: str, name: str, new_name: str) -> ExecutionState:
        """Start ``new_name`` with the same launch plan version and inputs as ``name``."""
        from airflow_provider_flyte.hooks import admin_messages as m

        self.client.call_unless("RelaunchExecution", m.relaunch_request(project, domain, name, new_name), "ALREADY_EXISTS")
        return self.get_execution(project, domain, new_name)

    def get_outputs(self, project: str, domain: str, name: str) -> dict[str, Any]:
        """Outputs of a finished execution as JSON-friendly values (files and datasets as URIs).

        Large outputs that FlyteAdmin offloads come back as a blob reference; we read the blob.
        """
        from airflow_provider_flyte.hooks import admin_messages as m
        from airflow_provider_flyte.hooks.literals import literal_map_to_json, read_offloaded_literal_map

        data = self.client.call("GetExecutionData", m.data_request(project, domain, name))
        if not data.full_outputs.literals and data.outputs.url:
            return literal_map_to_json(read_offloaded_literal_map(data.outputs.url))
        return literal_map_to_json(data.full_outputs)

    def execution_url(self, project: str, domain: str, name: str) -> str:
        return self.config.execution_url(project, domain, name)

    def test_connection(self) -> tuple[bool, str]:
        """A real, authenticated call: GetVersion."""
        from flyteidl.admin import version_pb2

        try:
            version = self.client.call("GetVersion", version_pb2.GetVersionRequest())
        except Exception as err:
            return False, f"Could not reach FlyteAdmin at {self.config.endpoint}: {err}"
        return True, f"Connected to FlyteAdmin {version.control_plane_version.Version or '(unknown version)'}"
