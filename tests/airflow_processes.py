"""Real Airflow 3 processes for tests: start, signal, restart and talk to them over the REST API.

Shared by ``tests/system`` (SQLite, one of each component) and ``tests/deployment`` (Postgres,
several triggerers). Nothing here imports Airflow: the processes are ``airflow <command>`` from
this interpreter's venv, each in its own process group with its output in a log file under
``<AIRFLOW_HOME>/process-logs`` (``Airflow.diagnostics()`` prints the tails).

The REST helpers expect the simple auth manager with ``[core] simple_auth_manager_all_admins``
(a token from ``/auth/token`` where the release asks for one). Methods of ``Airflow`` that take
no ``dag_id`` fall back to the one given to the constructor (``Airflow(..., dag_id=..., task_id=...)``), for suites built around one DAG.
"""

from __future__ import annotations

import json
import os
import secrets
import signal as signals
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
WAIT = 150.0
FINISHED_RUN_STATES = ("success", "failed")
HEALTH_COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
# A ``[core] hostname_callable`` that reads the host name from this variable: given to each
# triggerer so its Job row (and ``/api/v2/jobs``) says which process it is.
HOSTNAME_ENV = "AIRFLOW_TEST_HOSTNAME"
_HOSTNAME_MODULE = "airflow_test_hostname"


def airflow_env(
    home: Path,
    api_port: int,
    dags: Path,
    *,
    database_url: str | None = None,
    parallelism: int = 4,
    settings: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment every process of one local Airflow shares: this machine's environment without
    its AIRFLOW settings, one home, one JWT secret and one execution API URL, LocalExecutor, fast
    heartbeats, the simple auth manager with everyone admin; ``settings`` add or replace variables
    (a connection, a DAG bundle list). SQLite in ``home`` unless a ``database_url`` is given."""
    api = f"http://127.0.0.1:{api_port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url or f"sqlite:///{home}/airflow.db",
            "AIRFLOW__API__BASE_URL": api,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            **(settings or {}),
        }
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, check: Callable[[], Any], timeout: float = WAIT, every: float = 1.0) -> Any:
    """Call ``check`` until it returns something truthy (returned); AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


# The names tests/system has always used.
_free_port = free_port
_wait_for = wait_for


class ApiError(urllib.error.HTTPError):
    """An HTTP error from the API server, with the response body in the message."""

    def __init__(self, method: str, url: str, error: urllib.error.HTTPError) -> None:
        self.body = error.read().decode(errors="replace")
        super().__init__(
            url, error.code, f"{method} {url}: {error.code} {error.reason}: {self.body[:2000]}", error.headers, None
        )

    def __str__(self) -> str:
        return self.msg


class Process:
    """One Airflow command in its own process group, output kept in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.args = list(args)
        self.env = env
        self.log_path = logs / f"{name}-{time.time_ns()}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - open while the process runs
        self.started = time.monotonic()
        self.started_at = time.time()  # epoch seconds, to compare with the start_date of its Job row
        self.popen = subprocess.Popen(
            [str(BIN / "airflow"), *args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int, group: bool = True) -> None:
        """Deliver ``sig`` (to the whole process group by default) and return at once."""
        try:
            if group:
                os.killpg(self.popen.pid, sig)
            else:
                os.kill(self.popen.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, sig: int = signals.SIGTERM, grace: float = 20.0) -> None:
        """Signal the group and wait; whatever is left after ``grace`` gets SIGKILL."""
        self.signal(sig)
        self.reap(0.0 if sig == signals.SIGKILL else grace)

    def reap(self, grace: float) -> None:
        """Wait up to ``grace`` for the process to exit, then SIGKILL whatever is left of its group."""
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        self.signal(signals.SIGKILL)  # workers and task supervisors outliving their parent
        self.popen.wait(10)
        self._log.close()

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        status = "running" if self.alive() else f"exited {self.popen.returncode}"
        return f"--- {self.name} ({status}; {self.log_path}) ---\n" + "\n".join(text[-lines:])


class Airflow:
    """A set of Airflow processes sharing one AIRFLOW_HOME and environment, and its REST API.

    Processes are kept by name (``processes``); a name is also the ``airflow`` command unless
    ``command`` says otherwise (``triggerer-2`` runs ``airflow triggerer``). Stopped or replaced
    processes move to ``retired`` so their logs stay in ``diagnostics()``.
    """

    def __init__(
        self, home: Path, env: dict[str, str], api: str, dag_id: str | None = None, task_id: str | None = None
    ) -> None:
        self.home = home
        self.env = env
        self.api = api
        self._token: str | None = None
        self.dag_id = dag_id
        self.task_id = task_id
        self.logs = home / "process-logs"
        self.logs.mkdir(exist_ok=True)
        self.processes: dict[str, Process] = {}
        self.retired: list[Process] = []

    # --- processes -------------------------------------------------------------------------

    def start(self, name: str, *args: str, command: str | None = None, env: dict[str, str] | None = None) -> Process:
        """Start ``airflow <command or name> <args>`` under ``name`` with ``env`` added to the shared environment."""
        if name in self.processes and self.processes[name].alive():
            raise RuntimeError(f"{name} is already running (pid {self.processes[name].pid})")
        if name in self.processes:
            self.retired.append(self.processes.pop(name))
        process = Process(name, [command or name, *args], {**self.env, **(env or {})}, self.logs)
        self.processes[name] = process
        return process

    def start_triggerer(self, name: str | None = None, serve_logs: bool = False) -> Process:
        """Start one more triggerer (``triggerer``, ``triggerer-2``, ... unless ``name`` is given).

        Its Job row's hostname is its name (see ``triggerer_job``). Without ``serve_logs`` it runs
        with ``--skip-serve-logs``; with it, on its own free ``[logging] trigger_log_server_port``.
        """
        if name is None:
            taken = set(self.triggerers())
            name = next(n for n in ("triggerer", *(f"triggerer-{i}" for i in range(2, 100))) if n not in taken)
        env = {HOSTNAME_ENV: name, "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{_HOSTNAME_MODULE}.hostname"}
        self._install_hostname_callable()
        if serve_logs:
            env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(free_port())
            return self.start(name, command="triggerer", env=env)
        return self.start(name, "--skip-serve-logs", command="triggerer", env=env)

    def _install_hostname_callable(self) -> None:
        # AIRFLOW_HOME/config is on sys.path of every Airflow process.
        path = self.home / "config" / f"{_HOSTNAME_MODULE}.py"
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            path.write_text(
                "import os, socket\n\n\n"
                f"def hostname():\n    return os.environ.get({HOSTNAME_ENV!r}) or socket.getfqdn()\n"
            )

    def wait_up(self, name: str, timeout: float = 120.0) -> dict | None:
        """Wait until process ``name`` really serves: for a scheduler, dag-processor or triggerer, a
        running Job of its type started after the process (a triggerer's by its name when started by
        ``start_triggerer``), which is returned; for the api-server, an answer to ``/monitor/health``.
        Health alone can be fooled by a killed predecessor's heartbeat, still fresh for 30 s."""
        process = self.processes[name]
        command = process.args[0]

        def check() -> Any:
            if not process.alive():
                raise AssertionError(f"{name} exited ({process.popen.returncode}) while starting")
            if command == "api-server":
                return self.health()
            return self._job_of(process)

        return wait_for(f"{name} to be up", check, timeout)

    def triggerers(self) -> list[str]:
        """Names of the triggerer processes currently running."""
        return [n for n, p in self.processes.items() if p.args[0] == "triggerer" and p.alive()]

    def signal(self, name: str, sig: int, group: bool = True) -> None:
        """Deliver ``sig`` to a process (its group by default) without waiting: SIGSTOP/SIGCONT freeze and thaw it."""
        self.processes[name].signal(sig, group)

    def stop(self, name: str, sig: int = signals.SIGTERM, grace: float = 20.0) -> Process:
        """Stop one process with ``sig`` (SIGKILL for the rest after ``grace``) and retire it."""
        process = self.processes.pop(name)
        process.stop(sig, grace)
        self.retired.append(process)
        return process

    def kill(self, name: str) -> Process:
        """SIGKILL the process group at once: no shutdown code runs, its Job just stops heartbeating."""
        return self.stop(name, signals.SIGKILL)

    def restart(self, name: str, sig: int = signals.SIGTERM, grace: float = 20.0) -> Process:
        """Stop ``name`` with ``sig`` and start the same command with the same environment again."""
        self.stop(name, sig, grace)
        return self.start_again(name)

    def start_again(self, name: str) -> Process:
        """Start ``name`` with the command and environment of its latest run (a dead one is retired)."""
        if name in self.processes:
            if self.processes[name].alive():
                raise RuntimeError(f"{name} is already running (pid {self.processes[name].pid})")
            self.retired.append(self.processes.pop(name))
        like = next(p for p in reversed(self.retired) if p.name == name)
        process = Process(name, like.args, like.env, self.logs)
        self.processes[name] = process
        return process

    def restart_triggerer(self, sig: int) -> None:
        self.restart("triggerer", sig)

    def ensure_triggerer(self) -> None:
        """A running ``triggerer``: the same command again if it died, a new one if there was none."""
        if "triggerer" not in self.processes:
            self.start("triggerer", "--skip-serve-logs")
        elif not self.processes["triggerer"].alive():
            self.start_again("triggerer")

    def ensure_running(self) -> list[str]:
        """Start again every process that died; the names restarted."""
        dead = [name for name, process in self.processes.items() if not process.alive()]
        for name in dead:
            self.start_again(name)
        return dead

    def assert_alive(self) -> None:
        """AssertionError naming every process (not stopped through us) that has exited."""
        dead = {n: p.popen.returncode for n, p in self.processes.items() if not p.alive()}
        if dead:
            raise AssertionError(f"Airflow processes exited: {dead}")

    def stop_all(self, sig: int = signals.SIGTERM, grace: float = 20.0) -> None:
        """Signal every process at once, then reap each (SIGKILL after ``grace`` in all)."""
        for process in self.processes.values():
            process.signal(sig)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            process.reap(max(0.0, deadline - time.monotonic()))

    def diagnostics(self, lines: int = 40) -> str:
        return "\n".join(p.tail(lines) for p in [*self.retired, *self.processes.values()])

    # --- REST ------------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, timeout: float = 30.0) -> Any:
        """JSON in, JSON out; an HTTP error status raises ``ApiError`` carrying the response body.

        Airflow 3.0 and 3.2+ let every request in as admin under ``simple_auth_manager_all_admins``;
        3.1 answers 401 until the request carries a token, which ``/auth/token`` hands out to anyone
        in that mode: fetched on the first 401, then sent with every request.

        A 500 "Database error" is sent again (up to 3 tries), as a user clicks again: on Postgres a
        PATCH of a run can deadlock with the scheduler updating the same rows, and the whole request
        is rolled back (seen marking a run failed while its tasks were being cleared)."""
        data = json.dumps(body).encode() if body is not None else None
        url = self.api + path
        database_errors, token_fetched = 0, False
        while True:
            headers = {"Content-Type": "application/json"}
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            req = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=timeout) as response:
                    return json.loads(response.read() or b"null")
            except urllib.error.HTTPError as error:
                failure = ApiError(method, url, error)
            if failure.code == 401 and not token_fetched:
                token_fetched = True
                with urllib.request.urlopen(self.api + "/auth/token", timeout=timeout) as response:
                    self._token = json.loads(response.read())["access_token"]
            elif failure.code == 500 and '"Database error"' in failure.body and database_errors < 2:
                database_errors += 1
                time.sleep(0.5)
            else:
                raise failure

    def get_or_none(self, path: str) -> Any:
        """GET, or None on any HTTP error or connection failure (the server may be down)."""
        try:
            return self.request("GET", path)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None

    def health(self) -> dict | None:
        """``GET /api/v2/monitor/health``: ``{"scheduler": {"status": "healthy", ...}, ...}``, None if unreachable."""
        return self.get_or_none("/api/v2/monitor/health")

    def wait_healthy(self, components: Iterable[str] = HEALTH_COMPONENTS, timeout: float = 120.0) -> dict:
        """Wait until ``/monitor/health`` says every one of ``components`` is healthy; fails at once
        if one of our processes has exited meanwhile."""
        components = tuple(components)

        def check() -> dict | None:
            self.assert_alive()
            health = self.health()
            ok = health and all((health.get(c) or {}).get("status") == "healthy" for c in components)
            return health if ok else None

        return wait_for(f"{', '.join(components)} to be healthy", check, timeout)

    def wait_for_dag(self, dag_id: str | None = None, timeout: float = 120.0) -> dict:
        """Until the DAG's tasks are served: they come from the serialised DAG, which Airflow 3.0 may
        write after the DAG's row (a run triggered in between fails "not found in serialized_dag")."""
        dag_id = self._dag(dag_id)
        return wait_for(
            f"DAG {dag_id} to be parsed and served", lambda: self.get_or_none(f"/api/v2/dags/{dag_id}/tasks"), timeout
        )

    def jobs(self, job_type: str | None = None, alive: bool | None = None) -> list[dict]:
        """Rows of the job table (newest heartbeat first): ``TriggererJob``, ``SchedulerJob``, ``DagProcessorJob``."""
        query = {"limit": 100, "order_by": "-id"}
        if job_type:
            query["job_type"] = job_type
        if alive is not None:
            query["is_alive"] = str(alive).lower()
        return self.request("GET", "/api/v2/jobs?" + urllib.parse.urlencode(query))["jobs"]

    def triggerer_job(self, name: str) -> dict | None:
        """The running Job row of the triggerer process started under ``name`` (by ``start_triggerer``).

        Only a row started after that process counts: a killed predecessor of the same name leaves
        a row still marked running, which a lookup by hostname alone would return.
        """
        return self._job_of(self.processes[name])

    def _job_of(self, process: Process) -> dict | None:
        hostname = process.env.get(HOSTNAME_ENV)
        for job in self.jobs(_JOB_TYPES[process.args[0]]):
            started = job["start_date"] and _epoch(job["start_date"])
            if (
                job["state"] == "running"
                and started
                and started >= process.started_at
                and (hostname is None or job["hostname"] == hostname)
            ):
                return job
        return None

    def trigger(
        self, run_id: str, seconds: float | None = None, *, dag_id: str | None = None, conf: dict | None = None
    ) -> dict:
        """Start a run of ``dag_id`` (default DAG) now; ``seconds`` is shorthand for ``conf={"seconds": seconds}``."""
        if conf is None:
            conf = {} if seconds is None else {"seconds": seconds}
        return self.request(
            "POST",
            f"/api/v2/dags/{self._dag(dag_id)}/dagRuns",
            {"dag_run_id": run_id, "logical_date": None, "conf": conf},
        )

    def trigger_dag(self, dag_id: str, run_id: str, conf: dict | None = None) -> dict:
        return self.trigger(run_id, dag_id=dag_id, conf=conf or {})

    def dag_runs(self, dag_id: str = "~", states: Iterable[str] = ()) -> list[dict]:
        """Runs of ``dag_id`` (``~``: of every DAG), only those in ``states`` if given, newest first."""
        query = [("order_by", "-id"), ("limit", 100), *(("state", s) for s in states)]
        return self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns?" + urllib.parse.urlencode(query))["dag_runs"]

    def dag_run(self, run_id: str, *, dag_id: str | None = None) -> dict | None:
        return self.get_or_none(f"/api/v2/dags/{self._dag(dag_id)}/dagRuns/{_q(run_id)}")

    def run_state(self, run_id: str, *, dag_id: str | None = None) -> str | None:
        run = self.dag_run(run_id, dag_id=dag_id)
        return run and run["state"]

    def patch_run(self, run_id: str, state: str, *, dag_id: str | None = None) -> dict:
        """Mark a run ``failed``, ``success`` or ``queued`` (``PATCH .../dagRuns/{run}``), as in the UI."""
        return self.request("PATCH", f"/api/v2/dags/{self._dag(dag_id)}/dagRuns/{_q(run_id)}", {"state": state})

    def wait_for_run(
        self,
        run_id: str,
        timeout: float = WAIT,
        *,
        dag_id: str | None = None,
        states: Iterable[str] = FINISHED_RUN_STATES,
    ) -> str:
        states = tuple(states)
        return wait_for(
            f"dag run {run_id} to be one of {states}",
            lambda: (state := self.run_state(run_id, dag_id=dag_id)) in states and state,
            timeout,
        )

    def follow_run(
        self, run_id: str, timeout: float = WAIT, *, dag_id: str | None = None, every: float = 1.0
    ) -> tuple[str, Counter]:
        """Wait for the run to finish, sampling its task instances' states on the way: the final
        run state, and the most task instances seen at once in each state (``peaks["deferred"]``)."""
        peaks: Counter = Counter()

        def check() -> str | None:
            for state, n in self.ti_states(run_id, dag_id=dag_id).items():
                peaks[state] = max(peaks[state], n)
            state = self.run_state(run_id, dag_id=dag_id)
            return state if state in FINISHED_RUN_STATES else None

        return wait_for(f"dag run {run_id} to finish", check, timeout, every), peaks

    def task_instances(
        self,
        run_id: str,
        *,
        dag_id: str | None = None,
        task_id: str | None = None,
        states: Iterable[str] = (),
        page_size: int = 100,
    ) -> list[dict]:
        """Every task instance of a run (all map indexes), fetched page by page, in id order."""
        query: list[tuple[str, Any]] = [("order_by", "id"), ("limit", page_size)]
        if task_id:
            query.append(("task_id", task_id))
        query += [("state", s) for s in states]
        path = f"/api/v2/dags/{self._dag(dag_id)}/dagRuns/{_q(run_id)}/taskInstances?"
        found: list[dict] = []
        while True:
            page = self.request("GET", path + urllib.parse.urlencode([*query, ("offset", len(found))]))
            found += page["task_instances"]
            if not page["task_instances"] or len(found) >= page["total_entries"]:
                return found

    def task_instance(
        self, run_id: str, task_id: str | None = None, map_index: int = -1, *, dag_id: str | None = None
    ) -> dict | None:
        path = f"/api/v2/dags/{self._dag(dag_id)}/dagRuns/{_q(run_id)}/taskInstances/{self._task(task_id)}"
        return self.get_or_none(path if map_index < 0 else f"{path}/{map_index}")

    def ti_state(
        self, run_id: str, task_id: str | None = None, map_index: int = -1, *, dag_id: str | None = None
    ) -> str | None:
        ti = self.task_instance(run_id, task_id, map_index, dag_id=dag_id)
        return ti and ti["state"]

    def ti_states(self, run_id: str, *, dag_id: str | None = None, task_id: str | None = None) -> Counter:
        """How many task instances of the run (of ``task_id``, if given) are in each state (None: not yet scheduled)."""
        return Counter(ti["state"] for ti in self.task_instances(run_id, dag_id=dag_id, task_id=task_id))

    def wait_for_ti(
        self,
        run_id: str,
        states: set[str],
        timeout: float = WAIT,
        *,
        dag_id: str | None = None,
        task_id: str | None = None,
        map_index: int = -1,
    ) -> str:
        task_id = self._task(task_id)

        def check() -> str | None:
            state = self.ti_state(run_id, task_id, map_index, dag_id=dag_id)
            if state in ("failed", "upstream_failed") and "failed" not in states:
                raise AssertionError(f"task {task_id} of {run_id} is {state}, expected one of {states}")
            return state if state in states else None

        return wait_for(f"task {task_id}[{map_index}] of {run_id} to be one of {states}", check, timeout)

    def wait_for_tis(
        self,
        run_id: str,
        states: Iterable[str],
        count: int,
        timeout: float = WAIT,
        *,
        dag_id: str | None = None,
        task_id: str | None = None,
        every: float = 1.0,
    ) -> list[dict]:
        """Wait until at least ``count`` task instances (of ``task_id``) are in one of ``states``; those."""
        states = set(states)

        def check() -> list[dict] | None:
            tis = [ti for ti in self.task_instances(run_id, dag_id=dag_id, task_id=task_id) if ti["state"] in states]
            return tis if len(tis) >= count else None

        return wait_for(
            f"{count} task instances of {task_id or 'any task'} in {run_id} to be {states}", check, timeout, every
        )

    def patch_ti(
        self, run_id: str, task_id: str, state: str, map_index: int | None = None, *, dag_id: str | None = None
    ) -> list[dict]:
        """Mark a task instance ``failed``/``success``/``skipped`` as in the UI (all map indexes if none given)."""
        path = f"/api/v2/dags/{self._dag(dag_id)}/dagRuns/{_q(run_id)}/taskInstances/{task_id}"
        if map_index is not None:
            path += f"/{map_index}"
        return self.request("PATCH", path, {"new_state": state})["task_instances"]

    def clear_tasks(
        self,
        run_id: str,
        task_ids: Iterable[str | tuple[str, int]],
        *,
        dag_id: str | None = None,
        only_failed: bool = False,
        reset_dag_runs: bool = True,
        include_downstream: bool = False,
    ) -> list[dict]:
        """Clear task instances of one run (``task_id`` or ``(task_id, map_index)``); the cleared ones."""
        body = {
            "dry_run": False,
            "dag_run_id": run_id,
            "task_ids": [list(t) if isinstance(t, tuple) else t for t in task_ids],
            "only_failed": only_failed,
            "reset_dag_runs": reset_dag_runs,
            "include_downstream": include_downstream,
        }
        return self.request("POST", f"/api/v2/dags/{self._dag(dag_id)}/clearTaskInstances", body)["task_instances"]

    def _dag(self, dag_id: str | None) -> str:
        if not (dag_id or self.dag_id):
            raise ValueError("no dag_id given and no default DAG")
        return dag_id or self.dag_id  # type: ignore[return-value]

    def _task(self, task_id: str | None) -> str:
        if not (task_id or self.task_id):
            raise ValueError("no task_id given and no default task")
        return task_id or self.task_id  # type: ignore[return-value]


_JOB_TYPES = {"scheduler": "SchedulerJob", "dag-processor": "DagProcessorJob", "triggerer": "TriggererJob"}


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="")
