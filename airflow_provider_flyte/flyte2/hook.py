"""Flyte2Hook: a Flyte 2 endpoint behind an Airflow ``flyte2`` connection.

Importing this module is cheap (DAG files import the operator, which imports this): flyteidl2
and connectrpc load on first use, and the client is built once per hook instance. The
``a``-methods are the same calls for the event loop, on the loop's shared client (``pool``): each
such call is defined once, as a program of ``Call``s (the pattern of Flyte 1's ``hooks/calls``),
which ``_drive`` runs on the blocking client and ``_adrive`` on the asyncio one.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_flyte.compat import BaseHook
from airflow_provider_flyte.exceptions import FlyteEntityNotFound
from airflow_provider_flyte.flyte2.connection import CONN_TYPE, Flyte2ConnectionConfig
from airflow_provider_flyte.flyte2.phases import RunState

if TYPE_CHECKING:
    from airflow_provider_flyte.flyte2.client import AsyncFlyte2Client, Flyte2Client
    from airflow_provider_flyte.flyte2.messages import RunOptions

# A task name that is not deployed is reported with the versions that are: up to this many pages.
_VERSION_PAGES = 5
TEST_CONNECTION_TIMEOUT = 3.0
T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """One RPC of a program: its request, the answers that mean None instead of an error, and
    ``budget`` (``timeout`` / ``retries``) instead of the connection's."""

    rpc: str
    request: Any
    unless: tuple[str, ...] = ()
    budget: Mapping[str, Any] = field(default_factory=dict)


# A conversation with Flyte 2: yields calls, gets their answers back, returns what it concludes.
Program = Generator[Call, Any, T]


def _drive(program: Program[T], client: Flyte2Client) -> T:
    try:
        call = next(program)
        while True:
            call = program.send(client.call_unless(call.rpc, call.request, *call.unless, **call.budget))
    except StopIteration as done:
        return done.value


async def _adrive(program: Program[T], client: AsyncFlyte2Client) -> T:
    try:
        call = next(program)
        while True:
            call = program.send(await client.call_unless(call.rpc, call.request, *call.unless, **call.budget))
    except StopIteration as done:
        return done.value


def _find_run(org: str, project: str, domain: str, name: str, url: Callable[[], str]) -> Program[RunState | None]:
    """The run's state, or None if there is no run by that name."""
    from airflow_provider_flyte.flyte2 import messages as m

    details = yield Call("GetRunDetails", m.details_request(org, project, domain, name), ("NOT_FOUND",))
    if details is None:
        return None
    return m.state_from_details(details.details, org, project, domain, name, url())


def _abort(
    org: str, project: str, domain: str, name: str, reason: str, url: Callable[[], str], budget: Mapping[str, Any]
) -> Program[bool]:
    """Abort the run unless it has ended; whether an abort was sent to a run that exists."""
    from airflow_provider_flyte.flyte2 import messages as m

    state = yield from _find_run(org, project, domain, name, url)
    if state is None or state.is_terminal:
        return False
    answer = yield Call("AbortRun", m.abort_request(org, project, domain, name, reason), ("NOT_FOUND",), budget)
    return answer is not None


def config_from_connection(conn: Any, extra: Mapping[str, Any]) -> Flyte2ConnectionConfig:
    return Flyte2ConnectionConfig.from_parts(
        conn.conn_id, host=conn.host, port=conn.port, login=conn.login, password=conn.password, extra=extra
    )


class Flyte2Hook(BaseHook):
    """Talks to Flyte 2: resolve deployed tasks, create runs, read them, abort them, read outputs."""

    conn_name_attr = "flyte2_conn_id"
    default_conn_name = "flyte2_default"
    conn_type = CONN_TYPE
    hook_name = "Flyte 2"

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Airflow 3.0/3.1 only; 3.2+ reads the form from provider info (see ``hooks/form``)."""
        from airflow_provider_flyte.hooks.form import connection_form_widgets
        from airflow_provider_flyte.provider_info import FLYTE2_CONN_FIELDS

        return connection_form_widgets(FLYTE2_CONN_FIELDS)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Airflow 3.0/3.1 only, like ``get_connection_form_widgets``."""
        from airflow_provider_flyte.hooks.form import ui_field_behaviour
        from airflow_provider_flyte.provider_info import FLYTE2_FIELD_BEHAVIOUR

        return ui_field_behaviour(FLYTE2_FIELD_BEHAVIOUR)

    def __init__(self, flyte2_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flyte2_conn_id = flyte2_conn_id

    @cached_property
    def config(self) -> Flyte2ConnectionConfig:
        conn = self.get_connection(self.flyte2_conn_id)
        return config_from_connection(conn, conn.extra_dejson)

    @cached_property
    def client(self) -> Flyte2Client:
        from airflow_provider_flyte.flyte2.client import Flyte2Client

        return Flyte2Client(self.config)

    def get_conn(self) -> Flyte2Client:
        return self.client

    def fresh(self) -> Flyte2Hook:
        """A hook of the same connection with a client of its own (the connection already read is
        not read again): for ``on_kill``, which may interrupt a call on this hook's client."""
        other = type(self)(self.flyte2_conn_id)
        if "config" in self.__dict__:
            other.__dict__["config"] = self.config
        return other

    def close(self) -> None:
        """Close the blocking client, if one was made (a later call makes another)."""
        if "client" in self.__dict__:
            self.client.close()
            del self.__dict__["client"]

    def where(self, org: str | None, project: str | None, domain: str | None) -> tuple[str, str, str]:
        """The given org/project/domain, else the connection's; project and domain are required."""
        project = project or self.config.project
        domain = domain or self.config.domain
        if not project or not domain:
            raise ValueError(
                f"No Flyte project/domain given and connection {self.flyte2_conn_id!r} has no default "
                f"(project={project!r}, domain={domain!r}); set them on the task or in the connection's extras"
            )
        return org if org is not None else self.config.org, project, domain

    # -- tasks ------------------------------------------------------------------------------------

    def resolve_task(self, org: str, project: str, domain: str, name: str, version: str | None = None) -> Any:
        """The deployed task's ``TaskDetails``: the given version, else the newest deployed one."""
        from airflow_provider_flyte.flyte2 import messages as m

        if not version:
            versions = self.task_versions(org, project, domain, name, pages=1)
            if not versions:
                raise FlyteEntityNotFound(f"No task named {name!r} is deployed in {project}/{domain}")
            version = versions[0]
        answer = self.client.call_unless("GetTaskDetails", m.task_details_request(org, project, domain, name, version), "NOT_FOUND")
        if answer is None:
            known = self.task_versions(org, project, domain, name)
            if not known:
                raise FlyteEntityNotFound(f"No task named {name!r} is deployed in {project}/{domain}")
            shown = ", ".join(repr(v) for v in known[:5]) + (f" and {len(known) - 5} more" if len(known) > 5 else "")
            raise FlyteEntityNotFound(
                f"Task {project}/{domain}/{name} version {version!r} is not deployed; its versions, newest first: {shown}"
            )
        return answer.details

    def task_versions(self, org: str, project: str, domain: str, name: str, pages: int = _VERSION_PAGES) -> list[str]:
        """Deployed versions of a task, newest first (by deployment time, whatever order the server
        answers in)."""
        from airflow_provider_flyte.flyte2 import messages as m

        found: list[Any] = []
        token = ""
        for _ in range(pages):
            page = self.client.call_unless("ListVersions", m.versions_request(org, project, domain, name, token), "NOT_FOUND")
            if page is None:
                break
            found.extend(page.versions)
            token = page.token
            if not token:
                break
        found.sort(key=lambda v: (v.deployed_at.seconds, v.deployed_at.nanos), reverse=True)
        return list(dict.fromkeys(v.version for v in found))

    # -- runs -------------------------------------------------------------------------------------

    def launch(
        self, task: Any, org: str, project: str, domain: str, name: str, inputs: Mapping[str, Any], options: RunOptions
    ) -> RunState:
        """Create run ``name`` of ``task``; if it already exists (a retry, a lost response), adopt it.

        Inputs are checked and converted first, so a bad input creates nothing.
        """
        from airflow_provider_flyte.flyte2 import messages as m
        from airflow_provider_flyte.flyte2.literals import build_inputs

        t = task.task_id
        what = f"task {t.project}/{t.domain}/{t.name}@{t.version}"
        request = m.create_run_request(task, org, project, domain, name, build_inputs(task, what, inputs), options)
        if self.client.call_unless("CreateRun", request, "ALREADY_EXISTS") is None:
            self.log.info("Run %s already exists; adopting it instead of creating another", name)
        return self.get_run(org, project, domain, name)

    def find_run(self, org: str, project: str, domain: str, name: str) -> RunState | None:
        """The run's state, or None if there is no run by that name."""
        return _drive(_find_run(org, project, domain, name, lambda: self.run_url(project, domain, name)), self.client)

    async def afind_run(self, org: str, project: str, domain: str, name: str) -> RunState | None:
        from airflow_provider_flyte.flyte2.pool import Flyte2ClientPool

        async with Flyte2ClientPool.current().client(self.flyte2_conn_id) as client:
            # The URL from the loop's client: reading self.config would block the loop on the connection.
            return await _adrive(_find_run(org, project, domain, name, lambda: client.config.run_url(project, domain, name)), client)

    def get_run(self, org: str, project: str, domain: str, name: str) -> RunState:
        state = self.find_run(org, project, domain, name)
        if state is None:
            raise FlyteEntityNotFound(f"Flyte 2 run {project}/{domain}/{name} does not exist")
        return state

    def run_task_id(self, org: str, project: str, domain: str, name: str) -> Any:
        """The ``TaskIdentifier`` (version included) the run runs."""
        from airflow_provider_flyte.flyte2 import messages as m

        details = self.client.call("GetRunDetails", m.details_request(org, project, domain, name))
        return details.details.action.metadata.task.id

    def abort(self, org: str, project: str, domain: str, name: str, reason: str, **budget: Any) -> bool:
        """Abort the run; False when it had already ended (or does not exist).

        The phase is read first: open-source Flyte 2 marks even a finished run ABORTED when asked
        (``AbortRun`` updates the root action whatever its phase), which would rewrite a success.
        ``budget``: ``timeout`` / ``retries`` for the abort call.
        """
        program = _abort(org, project, domain, name, reason, lambda: self.run_url(project, domain, name), budget)
        return _drive(program, self.client)

    async def aabort(self, org: str, project: str, domain: str, name: str, reason: str, **budget: Any) -> bool:
        from airflow_provider_flyte.flyte2.pool import Flyte2ClientPool

        async with Flyte2ClientPool.current().client(self.flyte2_conn_id) as client:
            program = _abort(org, project, domain, name, reason, lambda: client.config.run_url(project, domain, name), budget)
            return await _adrive(program, client)

    def get_outputs(self, org: str, project: str, domain: str, name: str) -> dict[str, Any]:
        """The root action's outputs as JSON values (files and data frames as URIs).

        From DataProxyService.GetActionData, as the Flyte 2 SDK reads them; a server without a
        data proxy is asked RunService.GetActionData.
        """
        from airflow_provider_flyte.flyte2 import messages as m
        from airflow_provider_flyte.flyte2.literals import outputs_to_json

        data = self.client.call_unless("GetActionData", m.action_data_request(org, project, domain, name, True), "UNIMPLEMENTED")
        if data is None:
            data = self.client.call("RunGetActionData", m.action_data_request(org, project, domain, name, False))
        return outputs_to_json(data.outputs)

    def run_url(self, project: str, domain: str, name: str) -> str:
        return self.config.run_url(project, domain, name)

    def test_connection(self) -> tuple[bool, str]:
        """A real, authenticated call (ListRuns, one run), answered within seconds, no retries."""
        from airflow_provider_flyte.exceptions import FlyteConnectionError
        from airflow_provider_flyte.flyte2 import messages as m
        from airflow_provider_flyte.flyte2.retry import describe

        try:
            request = m.list_runs_request(self.config.org, self.config.project, self.config.domain)
            self.client.call("ListRuns", request, timeout=min(self.config.timeout, TEST_CONNECTION_TIMEOUT), retries=0)
        except FlyteConnectionError as err:
            return False, str(err)
        except Exception as err:
            return False, f"Could not reach Flyte 2 at {self.config.url}: {describe(err)}"
        return True, f"Connected to Flyte 2 at {self.config.url}"
