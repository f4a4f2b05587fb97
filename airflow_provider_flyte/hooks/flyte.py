"""FlyteHook: the FlyteAdmin client behind an Airflow ``flyte`` connection.

Importing this module is cheap (DAG files import the operator, which imports this): grpc,
flyteidl and flytekit load on first use, and the client is built once per hook instance. The
``a``-methods are the same calls (``calls``) for the event loop, on the loop's shared client.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.compat import BaseHook
from airflow_provider_flyte.exceptions import FlyteEntityNotFound
from airflow_provider_flyte.hooks.connection import FlyteConnectionConfig
from airflow_provider_flyte.phases import ExecutionState

if TYPE_CHECKING:
    from flyteidl.core.literals_pb2 import LiteralMap

    from airflow_provider_flyte.hooks.admin_client import AdminClient, AsyncAdminClient
    from airflow_provider_flyte.hooks.admin_messages import LaunchOptions, LaunchTarget
    from airflow_provider_flyte.lineage.entity import FlyteEntity
    from airflow_provider_flyte.signals.pending import PendingSignal


# ``test_connection`` (the UI's Test button, ``airflow connections test``) answers within 5 s:
# GetVersion gets this long, a FlyteAdmin that never answered is then probed (about a second).
TEST_CONNECTION_TIMEOUT = 3.0
# A name that is not registered is compared with those that are: up to this many, newest first.
_LISTED_PAGES, _LISTED_PAGE_SIZE = 5, 100


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

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Airflow 3.0/3.1 only; 3.2+ reads the form from provider info (see ``hooks/form``)."""
        from airflow_provider_flyte.hooks.form import connection_form_widgets

        return connection_form_widgets()

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Airflow 3.0/3.1 only, like ``get_connection_form_widgets``."""
        from airflow_provider_flyte.hooks.form import ui_field_behaviour

        return ui_field_behaviour()

    def __init__(self, flyte_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flyte_conn_id = flyte_conn_id

    @cached_property
    def config(self) -> FlyteConnectionConfig:
        conn = self.get_connection(self.flyte_conn_id)
        return config_from_connection(conn, conn.extra_dejson)

    @cached_property
    def client(self) -> AdminClient:
        from airflow_provider_flyte.hooks.admin_client import AdminClient

        return AdminClient(self.config)

    def get_conn(self) -> AdminClient:
        return self.client

    def _shared_client(self) -> AbstractAsyncContextManager[AsyncAdminClient]:
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
                raise self._not_registered("launch plan", project, domain, name, version)
            return m.target_from_launch_plan(lp)
        active = self.client.call_unless(
            "GetActiveLaunchPlan", m.active_launch_plan_request(project, domain, name), "NOT_FOUND"
        )
        if active is not None:
            return m.target_from_launch_plan(active)
        listed = self.client.call("ListLaunchPlans", m.newest_first(project, domain, name)).launch_plans
        if not listed:
            raise self._not_registered("launch plan", project, domain, name)
        return m.target_from_launch_plan(listed[0])

    def resolve_task(self, project: str, domain: str, name: str, version: str | None = None) -> LaunchTarget:
        """The given version, else the newest registered one."""
        from airflow_provider_flyte.hooks import admin_messages as m

        if version:
            task = self.client.call_unless("GetTask", m.object_request(m.TASK, project, domain, name, version), "NOT_FOUND")
            if task is None:
                raise self._not_registered("task", project, domain, name, version)
            return m.target_from_task(task)
        listed = self.client.call("ListTasks", m.newest_first(project, domain, name)).tasks
        if not listed:
            raise self._not_registered("task", project, domain, name)
        return m.target_from_task(listed[0])

    def _not_registered(
        self, kind: str, project: str, domain: str, name: str, version: str | None = None
    ) -> FlyteEntityNotFound:
        """The error for a name (or version) FlyteAdmin does not know, with what it does know:
        the name's registered versions, else the closest registered names."""
        versions = self._registered(kind, project, domain, name) if version else None
        names = None if versions else self._registered(kind, project, domain)
        return FlyteEntityNotFound(not_registered_message(kind, project, domain, name, version, versions, names))

    def _registered(self, kind: str, project: str, domain: str, name: str = "") -> list[str] | None:
        """Registered names in project/domain (with ``name``: its versions), newest first, from at
        most a few pages; None when FlyteAdmin cannot say (the error then goes without them)."""
        from airflow_provider_flyte.hooks import admin_messages as m

        method, field = ("ListLaunchPlans", "launch_plans") if kind == "launch plan" else ("ListTasks", "tasks")
        found: dict[str, None] = {}
        token = ""
        try:
            for _ in range(_LISTED_PAGES):
                page = self.client.call(method, m.registered_request(project, domain, name, _LISTED_PAGE_SIZE, token))
                found.update((entity.id.version if name else entity.id.name, None) for entity in getattr(page, field))
                token = page.token
                if not token:
                    break
        except Exception as err:
            self.log.warning("Could not list the %ss registered in %s/%s: %s", kind, project, domain, err)
            return None
        return list(found)

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

    def pending_signals(self, project: str, domain: str, name: str) -> list[PendingSignal]:
        """The gates the execution waits at: their signal, kind (approval or input), type and node."""
        from airflow_provider_flyte.hooks import calls
        from airflow_provider_flyte.signals.pending import pending_signals

        signals = calls.list_signals(project, domain, name).run(self.client)
        if all(signal.HasField("value") for signal in signals):
            return []
        return pending_signals(project, domain, name, signals, self.gate_nodes(project, domain, name))

    def gate_nodes(self, project: str, domain: str, name: str) -> dict[str, tuple[str, str]]:
        """Which node waits for which signal: from the execution's workflow (three reads)."""
        from airflow_provider_flyte.hooks import calls

        return calls.drive(calls.gate_nodes(project, domain, name), self.client)

    def set_signal(self, project: str, domain: str, name: str, signal_id: str, value: Any) -> None:
        """Answer a gate with ``value``, converted to the signal's Flyte type as launch inputs are.

        The signal must exist (its gate node has started). Answering again with the same value is
        a no-op (a retried task); with another value it is refused, because the gate may already
        have gone on with the first.
        """
        from airflow_provider_flyte.exceptions import FlyteInputError
        from airflow_provider_flyte.hooks import calls
        from airflow_provider_flyte.hooks.literals import literal_to_json, to_literal

        where = f"Flyte execution {project}/{domain}/{name}"
        signals = {s.id.signal_id: s for s in calls.list_signals(project, domain, name).run(self.client)}
        signal = signals.get(signal_id)
        if signal is None:
            raise FlyteInputError(
                f"{where} has no signal {signal_id!r} (its gate node has not started, or the workflow has no such "
                f"gate); its signals: {sorted(signals) or 'none yet'}"
            )
        literal = to_literal(value, signal.type, f"Signal {signal_id!r} of {where}")
        if signal.HasField("value"):
            if signal.value == literal:
                self.log.info("Signal %r of %s already has this value", signal_id, where)
                return
            raise FlyteInputError(
                f"Signal {signal_id!r} of {where} was already answered with {literal_to_json(signal.value)!r}; "
                f"refusing to change it to {value!r}"
            )
        calls.set_signal(project, domain, name, signal_id, literal).run(self.client)
        self.log.info("Set signal %r of %s to %r", signal_id, where, value)

    def get_outputs(self, project: str, domain: str, name: str) -> dict[str, Any]:
        """Outputs of a finished execution as JSON-friendly values (files and datasets as URIs)."""
        from airflow_provider_flyte.hooks.literals import literal_map_to_json

        return literal_map_to_json(self.execution_data(project, domain, name)[1])

    def execution_data(self, project: str, domain: str, name: str) -> tuple[LiteralMap, LiteralMap]:
        """The execution's typed inputs and outputs. Large ones that FlyteAdmin offloads come back
        as a blob reference; we read the blob."""
        from airflow_provider_flyte.hooks import calls
        from airflow_provider_flyte.hooks.literals import resolve_data

        return resolve_data(calls.execution_data(project, domain, name).run(self.client))

    def execution_entity(self, project: str, domain: str, name: str) -> FlyteEntity:
        """The launch plan (or, for a single-task execution, the task) an execution runs."""
        from airflow_provider_flyte.hooks import admin_messages as m
        from airflow_provider_flyte.lineage.entity import FlyteEntity

        lp = self.client.call("GetExecution", m.execution_request(project, domain, name)).spec.launch_plan
        kind = "task" if lp.resource_type == m.TASK else "launch_plan"
        return FlyteEntity(kind, lp.project, lp.domain, lp.name, lp.version)

    def execution_url(self, project: str, domain: str, name: str) -> str:
        return self.config.execution_url(project, domain, name)

    def test_connection(self) -> tuple[bool, str]:
        """A real, authenticated call: GetVersion, answered within 5 s (no retries: a person waits).

        A FlyteAdmin that cannot be reached is diagnosed as in any task (``FlyteAdminUnreachable``:
        "nothing listens on ...", "the server answered in plaintext: set `insecure` to true"...).
        """
        from flyteidl.admin import version_pb2

        from airflow_provider_flyte.exceptions import FlyteConnectionError

        try:
            timeout = min(self.config.timeout, TEST_CONNECTION_TIMEOUT)
            version = self.client.call("GetVersion", version_pb2.GetVersionRequest(), timeout=timeout, retries=0)
        except FlyteConnectionError as err:  # the connection's fields, the admin's address, its credentials
            return False, str(err)
        except Exception as err:
            code, details = getattr(err, "code", None), getattr(err, "details", None)
            # a gRPC error: its status, not its multi-line repr
            said = f"{code().name}: {details()}" if callable(code) and callable(details) else str(err)
            return False, f"Could not reach FlyteAdmin at {self.config.endpoint}: {said}"
        return True, f"Connected to FlyteAdmin {version.control_plane_version.Version or '(unknown version)'}"


def close_matches(name: str, registered: list[str], n: int = 3) -> list[str]:
    """Up to ``n`` registered names the user may have meant: same last dotted part (the module
    path forgotten or wrong) first, then ``difflib``'s closest, only those about as close as the
    closest (names share long module paths, which makes every name of a module look similar).
    Implicit ``.flytegen`` launch plans of single tasks are not suggested."""
    import difflib

    candidates = [r for r in registered if not r.startswith(".flytegen.") and r != name]
    short = name.rsplit(".", 1)[-1].lower()
    same_end = [r for r in candidates if r.rsplit(".", 1)[-1].lower() == short]
    close = difflib.get_close_matches(name, candidates, n=n, cutoff=0.6)
    if close:
        best = difflib.SequenceMatcher(None, name, close[0]).ratio()
        close = [c for c in close if difflib.SequenceMatcher(None, name, c).ratio() >= best - 0.05]
    return list(dict.fromkeys(same_end + close))[:n]


def not_registered_message(
    kind: str,
    project: str,
    domain: str,
    name: str,
    version: str | None,
    versions: list[str] | None,
    names: list[str] | None,
) -> str:
    """"Not registered", and what is: the name's versions, else the closest names (None: unknown)."""
    where = f"{project}/{domain}"
    if version and versions:
        shown = ", ".join(repr(v) for v in versions[:5]) + (f" and {len(versions) - 5} more" if len(versions) > 5 else "")
        return f"{kind.capitalize()} {where}/{name} version {version!r} is not registered; its registered versions, newest first: {shown}"
    if version:
        message = f"{kind.capitalize()} {where}/{name} version {version!r} is not registered: no {kind} of that name is"
    else:
        message = f"No {kind} named {name!r} is registered in {where}"
    if names is None:
        return message
    matches = close_matches(name, names)
    if len(matches) == 1:
        return f"{message}; did you mean {matches[0]!r}?"
    if matches:
        return f"{message}; did you mean one of {', '.join(repr(m) for m in matches)}?"
    if names:
        return f"{message}; no registered {kind} name is close to it ({len(names)} registered there)"
    return f"{message}; no {kind}s are registered there at all (check the project and domain)"
