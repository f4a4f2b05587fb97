"""``LocalFlyte2Service``: the run service in a thread of the caller's process, for tests and scripts."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType

from airflow_provider_flyte.local_flyte2.auth import TOKEN_PATH, ClientCredentials, TokenIssuer
from airflow_provider_flyte.local_flyte2.registry import DeployedTask, TaskRegistry
from airflow_provider_flyte.local_flyte2.runs import RunView
from airflow_provider_flyte.local_flyte2.server import Faults, ServerThread, bind, build_app

DEFAULT_PROJECT = "flytesnacks"
DEFAULT_DOMAIN = "development"
# Task processes running at once; a run past that waits QUEUED (each process is a Python with the SDK).
DEFAULT_PARALLELISM = 8
_TERMINAL = frozenset({"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"})


class LocalFlyte2Service:
    """A local Flyte 2 run service on loopback: deploys the tasks of ``tasks`` (files or folders) to
    ``project``/``domain`` and serves until ``stop()`` (or the end of its ``with`` block).

    ``state_dir`` holds each run's inputs, outputs and task log (a temporary folder, removed on stop,
    unless given). ``faults`` injects failures and latency into the Connect calls. With ``auth``, every call
    needs a bearer token from ``token_endpoint`` (``tokens`` counts and expires them). At most
    ``parallelism`` runs execute at once; the others wait QUEUED.
    """

    def __init__(
        self,
        tasks: Sequence[str | Path],
        port: int = 0,
        host: str = "127.0.0.1",
        project: str = DEFAULT_PROJECT,
        domain: str = DEFAULT_DOMAIN,
        state_dir: str | Path | None = None,
        auth: ClientCredentials | None = None,
        parallelism: int = DEFAULT_PARALLELISM,
    ) -> None:
        self.project = project
        self.domain = domain
        self.host = host
        self.faults = Faults()
        self.tokens = TokenIssuer(auth) if auth is not None else None
        self._registry = TaskRegistry()
        self.tasks: list[DeployedTask] = self._registry.load(tasks, project, domain)
        self._tempdir = tempfile.TemporaryDirectory(prefix="flyte2-local-") if state_dir is None else None
        self.state_dir = Path(self._tempdir.name if self._tempdir else state_dir)  # type: ignore[arg-type]
        projects = {project} | {t.task_id.project for t in self.tasks}
        self._app, self._runs = build_app(
            self._registry, self.state_dir, projects, self.faults, self.tokens, parallelism
        )
        self._socket = bind(host, port)
        self.port: int = self._socket.getsockname()[1]
        self._server: ServerThread | None = None

    @property
    def endpoint(self) -> str:
        """``host:port``, what ``flyte.init(endpoint=..., insecure=True)`` takes."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """``http://host:port``, the base URL a Connect client takes."""
        return f"http://{self.endpoint}"

    @property
    def token_endpoint(self) -> str | None:
        """The OAuth2 token endpoint with ``auth``, else None."""
        return self.url + TOKEN_PATH if self.tokens is not None else None

    def start(self) -> LocalFlyte2Service:
        self._server = ServerThread(self._app, self._socket)
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving; runs still executing are killed. Idempotent."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._socket.close()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def __enter__(self) -> LocalFlyte2Service:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def task(self, name: str) -> DeployedTask:
        """The deployed version of the task called ``name`` (``<env>.<function>``)."""
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(f"no deployed task {name!r} (deployed: {', '.join(t.name for t in self.tasks)})")

    def runs(self) -> list[RunView]:
        """Every run so far, as it is now."""
        return self._runs.snapshot()

    def run(self, name: str) -> RunView:
        for view in self.runs():
            if view.name == name:
                return view
        raise KeyError(f"no run {name!r}")

    def wait_for_phase(self, name: str, phases: Iterable[str] = _TERMINAL, timeout: float = 60) -> RunView:
        """Wait until run ``name`` is in one of ``phases`` (names like "RUNNING"; default: any terminal)."""
        wanted = set(phases)
        deadline = time.monotonic() + timeout
        while True:
            try:
                view = self.run(name)
                if view.phase in wanted:
                    return view
            except KeyError:
                view = None
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {name!r} is {view.phase if view else 'absent'}, not in {sorted(wanted)}")
            time.sleep(0.02)
