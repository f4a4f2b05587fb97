"""What N deferred waits cost one triggerer: N FlyteExecutionTriggers in one asyncio event loop.

Airflow's triggerer runs up to 1,000 triggers in one event loop. This bench starts the local admin
with client-credentials auth and no execution slots (``parallelism=0``: every execution stays
QUEUED, no process is started), creates N executions of ``simple.sleepy_wf`` that therefore never
end, and runs ``FlyteExecutionTrigger(conn_id, project, domain, name).run()`` for each of them in
ONE event loop of a fresh child process, each as an asyncio task pulling the first event, as the
triggerer does. The admin stays in this (driver) process, so the child's CPU and memory are the
waits' own. Per scenario it prints, over a steady-state window:

- CPU % of one core used by the waiting process (process time / wall time over the window);
- its peak RSS;
- token requests to the identity provider (whole run, and during the window);
- status RPCs per second to FlyteAdmin during the window (GetExecution + ListExecutions);
- then it terminates 20 of the executions, one every 1.5 s (spread over 30 s, so the aborts land
  at every point of the poll cycle), and reports how long after each abort its trigger yielded
  the event: how many were noticed within 90 s of the last abort, p50 and max.

Each scenario runs with a normal identity provider and with a slow one (the token endpoint answers
one request at a time, 0.2 s each). ``--baseline-ref REF`` runs the same scenarios with the
package as of git REF too (a temporary ``git worktree`` put first on the child's PYTHONPATH), and
prints before/after ratios. The triggers are built as if they had been waiting ``--waited``
seconds (an hour by default), so their poll schedules are already at their ceiling: the window
measures the steady state of long waits, not the first minute's backoff.

    .venv/bin/python bench/triggerer_scale.py [--n 100 1000 5000] [--window 60] [--idp both|normal|slow]
        [--baseline-ref REF] [--baseline-n 100 1000] [--json out.json]

The window should span whole poll periods (a 30 s ceiling before the shared watcher, 5 s after),
so keep it at 60 s for figures that go into docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SIMPLE = REPO / "tests" / "workflows" / "simple.py"
PROJECT, DOMAIN = "flytesnacks", "development"
LAUNCH_PLAN = "simple.sleepy_wf"
CONN_ID = "flyte_bench"
CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"
SLOW_TOKEN_LATENCY = 0.2
STATUS_RPCS = ("GetExecution", "ListExecutions")
ABORT_CAUSE = "triggerer_scale bench: aborted to time the trigger"
GOALS_N = 1000
# The per-wait code costs about 0.75 MB and a channel per wait: not run beyond this unless asked.
BASELINE_MAX_N = 1000
# (figure, result key, limit): the goals for N = 1,000; "aborts noticed" must be all of them.
GOALS = [
    ("CPU % of a core", "cpu_pct", 2.0),
    ("peak RSS MB", "rss_peak_mb", 250.0),
    ("token requests", "tokens_total", 3),
    ("status RPCs per second", "status_rps", 3.0),
    ("aborts noticed", "noticed", None),
    ("abort p50 s", "p50_s", 6.0),
    ("abort max s", "max_s", 15.0),
]


# --------------------------------------------------------------------------- the waiting child


def child_main(args: argparse.Namespace) -> None:
    """The triggerer's side: N trigger tasks in one loop; talks JSON lines with the driver.

    stdout is the protocol channel (anything else printing to stdout goes to stderr instead);
    commands arrive on stdin: ``mark`` (answer with the clocks and counters), ``quit``.
    End of stdin means the driver is gone: exit at once.
    """
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _die_with(args.parent_pid)
    _raise_fd_limit()

    def send(message: dict[str, Any]) -> None:
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    import airflow_provider_flyte
    from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger

    module = str(Path(airflow_provider_flyte.__file__).resolve())
    if not Path(module).is_relative_to(Path(args.expect_root).resolve()):
        send({"msg": "error", "error": f"imported airflow_provider_flyte from {module}, not from {args.expect_root}"})
        sys.exit(2)
    print(f"child {os.getpid()}: airflow_provider_flyte from {module}", file=sys.stderr)
    asyncio.run(_wait_all(args, FlyteExecutionTrigger, module, send))
    protocol.close()


async def _wait_all(args: argparse.Namespace, trigger_class: type, module: str, send) -> None:
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[str] = asyncio.Queue()
    threading.Thread(target=_read_commands, args=(loop, commands), name="commands", daemon=True).start()
    rss_base_mb = _peak_rss_mb()
    lag = _LagProbe()
    probe = loop.create_task(lag.run())

    def report(name: str, event: Any = None, error: str | None = None) -> None:
        payload = getattr(event, "payload", None)
        state = payload.get("state") if isinstance(payload, dict) else None
        send({
            "msg": "event", "name": name, "t": time.time(), "error": error,
            "status": payload.get("status") if isinstance(payload, dict) else None,
            "phase": state.get("phase") if isinstance(state, dict) else None,
            "message": str(payload.get("message", ""))[:200] if isinstance(payload, dict) else "",
        })

    since = time.time() - args.waited
    started = time.monotonic()
    tasks = [
        loop.create_task(_first_event(trigger_class(CONN_ID, PROJECT, DOMAIN, name, waiting_since=since), name, report))
        for name in execution_names(args.n)
    ]
    await asyncio.sleep(0)  # every task has started its run()
    send({"msg": "started", "n": len(tasks), "module": module, "pid": os.getpid(),
          "start_s": time.monotonic() - started, "rss_base_mb": rss_base_mb})
    while (command := await commands.get()) != "quit":
        if command == "mark":
            send({"msg": "mark", "wall": time.time(), "cpu": time.process_time(), "rss_peak_mb": _peak_rss_mb(),
                  "pending": sum(not task.done() for task in tasks), "loop_lag_max_s": lag.take()})
    probe.cancel()
    for task in tasks:
        task.cancel()
    await asyncio.wait_for(asyncio.gather(*tasks, probe, return_exceptions=True), timeout=30)
    send({"msg": "bye", "rss_peak_mb": _peak_rss_mb()})


async def _first_event(trigger: Any, name: str, report) -> None:
    """What the triggerer does with a trigger: take its first event, then close the generator."""
    run = trigger.run()
    try:
        event = await run.__anext__()
    except StopAsyncIteration:
        report(name, error="run() ended without an event")
    except Exception as err:  # noqa: BLE001 - reported, the other waits go on
        report(name, error=f"{type(err).__name__}: {err}"[:300])
    else:
        report(name, event)
    finally:
        await run.aclose()


class _LagProbe:
    """How late the event loop runs a timer: a blocked loop delays every trigger."""

    TICK = 0.5

    def __init__(self) -> None:
        self.worst = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.TICK)
            self.worst = max(self.worst, loop.time() - before - self.TICK)

    def take(self) -> float:
        worst, self.worst = self.worst, 0.0
        return round(worst, 4)


def _read_commands(loop: asyncio.AbstractEventLoop, commands: asyncio.Queue[str]) -> None:
    for line in sys.stdin:
        loop.call_soon_threadsafe(commands.put_nowait, line.strip())
    os._exit(3)  # stdin closed: the driver is gone, never outlive it


def _die_with(parent_pid: int) -> None:
    """SIGKILL when the driver dies (Linux), without a preexec_fn in the threaded driver."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:
        os._exit(3)


def _raise_fd_limit() -> None:
    """Per-wait channels (the old code) need a socket each; a triggerer host has a high limit too."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1 << 16 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def execution_names(n: int) -> list[str]:
    return [f"bench-{i}" for i in range(n)]


# --------------------------------------------------------------------------- the driver


@dataclass(frozen=True)
class Version:
    label: str  # "current" or "baseline@<sha>"
    root: Path  # put first on the child's PYTHONPATH
    package: Path  # where the child must import airflow_provider_flyte from


@dataclass(frozen=True)
class Scenario:
    version: Version
    n: int
    idp: str  # "normal" or "slow"


class ChildDied(RuntimeError):
    pass


class Child:
    """The waiting process: JSON lines out, commands in; killed on any way out of the driver."""

    def __init__(self, scenario: Scenario, args: argparse.Namespace, admin, workdir: Path) -> None:
        home = workdir / "airflow-home"
        (home / "dags").mkdir(parents=True)
        host, port = admin.endpoint.rsplit(":", 1)
        connection = {
            "conn_type": "flyte", "host": host, "port": int(port), "login": CLIENT_ID, "password": CLIENT_SECRET,
            "extra": {"auth_mode": "client_credentials", "insecure": True, "project": PROJECT, "domain": DOMAIN},
        }
        env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW_CONN_", "AIRFLOW__"))}
        env.update(
            AIRFLOW_HOME=str(home), AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False", AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
            AIRFLOW_CONN_FLYTE_BENCH=json.dumps(connection), PYTHONPATH=str(scenario.version.root),
        )
        self.log_path = workdir / "child.log"
        self._log = open(self.log_path, "wb")
        self.events: dict[str, dict[str, Any]] = {}
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", "--child-n", str(scenario.n),
             "--waited", str(args.waited), "--expect-root", str(scenario.version.package),
             "--parent-pid", str(os.getpid())],
            env=env, cwd=home, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
        )
        threading.Thread(target=self._read, name="child-stdout", daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                self._messages.put(json.loads(line))
            except ValueError:
                self._messages.put({"msg": "noise", "line": line.rstrip()})
        self._messages.put(None)

    def send(self, command: str) -> None:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def pump(self, timeout: float) -> dict[str, Any] | None:
        """The next message (trigger events are also kept in ``events``); None after ``timeout``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self._messages.get(timeout=left)
            except queue.Empty:
                return None
            if message is None:
                self._messages.put(None)
                raise ChildDied(f"the waiting process exited (rc {self.process.wait(timeout=30)}):\n{self.log_tail()}")
            if message["msg"] == "error":
                raise ChildDied(message["error"])
            if message["msg"] == "event":
                self.events.setdefault(message["name"], message)
            return message
        return None

    def expect(self, kind: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.pump(left)
            if message is not None and message["msg"] == kind:
                return message
        raise TimeoutError(f"no {kind!r} from the waiting process within {timeout:.0f} s:\n{self.log_tail()}")

    def mark(self) -> dict[str, Any]:
        self.send("mark")
        return self.expect("mark", timeout=120)

    def log_tail(self, chars: int = 3000) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def close(self) -> dict[str, Any] | None:
        """Asks it to cancel its waits and exit; kills it if it does not within 60 s."""
        bye = None
        try:
            if self.process.poll() is None:
                self.send("quit")
                bye = self.expect("bye", timeout=60)
                self.process.wait(timeout=30)
        except (OSError, ChildDied, TimeoutError, subprocess.TimeoutExpired) as err:
            print(f"  waiting process did not exit cleanly: {str(err).splitlines()[0]}", file=sys.stderr)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=30)
            self._log.close()
        return bye


def start_admin(idp: str):
    from airflow_provider_flyte.local_admin import ClientSecretAuth, LocalFlyteAdmin

    if idp == "slow":
        auth = ClientSecretAuth(CLIENT_ID, CLIENT_SECRET, token_latency=SLOW_TOKEN_LATENCY)
    else:
        auth = ClientSecretAuth(CLIENT_ID, CLIENT_SECRET)
    # No execution slots: every execution stays QUEUED and no worker process is ever started.
    return LocalFlyteAdmin(workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=0, parallelism=0,
                           worker_mode="subprocess", auth=auth).start()


def fetch_token(admin) -> str:
    """The driver's own token (one request, made before counting starts)."""
    import base64
    import urllib.parse
    import urllib.request

    basic = base64.b64encode(f"{CLIENT_ID}:{urllib.parse.quote(CLIENT_SECRET)}".encode()).decode()
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": "all"}).encode()
    request = urllib.request.Request(
        admin.token_endpoint, data=form,
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)["access_token"]


class AdminCalls:
    """CreateExecution / TerminateExecution from the driver, over gRPC with its own bearer token."""

    def __init__(self, admin) -> None:
        import grpc
        from flyteidl.service.admin_pb2_grpc import AdminServiceStub

        self._channel = grpc.insecure_channel(admin.endpoint)
        self._stub = AdminServiceStub(self._channel)
        self._metadata = (("flyte-authorization", f"Bearer {fetch_token(admin)}"),)

    def create_all(self, names: list[str]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from flyteidl.admin import execution_pb2
        from flyteidl.core import identifier_pb2

        from airflow_provider_flyte.local_admin.modules import content_version

        spec = execution_pb2.ExecutionSpec(launch_plan=identifier_pb2.Identifier(
            resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain=DOMAIN, name=LAUNCH_PLAN,
            version=content_version(SIMPLE),
        ))

        def create(name: str) -> None:
            request = execution_pb2.ExecutionCreateRequest(project=PROJECT, domain=DOMAIN, name=name, spec=spec)
            self._stub.CreateExecution(request, metadata=self._metadata, timeout=60)

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(create, names))

    def terminate(self, name: str) -> None:
        from flyteidl.admin import execution_pb2
        from flyteidl.core import identifier_pb2

        execution = identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=name)
        request = execution_pb2.ExecutionTerminateRequest(id=execution, cause=ABORT_CAUSE)
        self._stub.TerminateExecution(request, metadata=self._metadata, timeout=30)

    def close(self) -> None:
        self._channel.close()


def counters(admin) -> dict[str, Any]:
    rpcs = admin.rpc_counts
    return {"t": time.monotonic(), "tokens": admin.tokens.requests,
            "status": sum(rpcs.get(method, 0) for method in STATUS_RPCS),
            "by_method": {method: rpcs.get(method, 0) for method in STATUS_RPCS}}


def run_scenario(scenario: Scenario, args: argparse.Namespace) -> dict[str, Any]:
    from flyteidl.core import execution_pb2 as core

    queued = core.WorkflowExecution.QUEUED
    n = scenario.n
    print(f"\n== {scenario.version.label}, N={n}, {scenario.idp} identity provider", flush=True)
    clock = time.monotonic()

    def say(line: str) -> None:
        print(f"  [{time.monotonic() - clock:6.1f} s] {line}", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="bench-triggerer-"))
    admin = start_admin(scenario.idp)
    say(f"admin serving on {admin.endpoint}")
    calls = child = None
    try:
        calls = AdminCalls(admin)
        names = execution_names(n)
        began = time.monotonic()
        calls.create_all(names)
        not_queued = [name for name in names if admin.get_execution(name).closure.phase != queued]
        if not_queued:
            raise RuntimeError(f"{len(not_queued)} executions are not QUEUED, e.g. {not_queued[0]}")
        say(f"{n} executions created and QUEUED in {time.monotonic() - began:.1f} s")

        first = counters(admin)
        child = Child(scenario, args, admin, workdir)
        started = child.expect("started", timeout=300)
        say(f"child {started['pid']} imported airflow_provider_flyte from {started['module']}")
        say(f"{started['n']} triggers running; warming up")
        warmup_s = warm_up(child, admin, first, args)
        say(f"warmed up after {warmup_s:.1f} s; measuring {args.window:.0f} s")

        mark_start = child.mark()
        window_start = counters(admin)
        deadline = time.monotonic() + args.window
        while (left := deadline - time.monotonic()) > 0:
            child.pump(left)  # keeps events (a trigger ending early is reported below)
        mark_end = child.mark()
        window_end = counters(admin)
        early = dict(child.events)
        say(f"window over; aborting {min(args.aborts, n)} executions over {args.abort_spread:.0f} s")

        aborted = abort_some(child, calls, names, min(args.aborts, n), args.abort_spread)
        latencies = wait_for_events(child, aborted, args.abort_wait)
        say(f"{len(latencies)} aborts noticed")
        last = counters(admin)
        final = child.mark()
        still_queued = sum(
            admin.get_execution(name).closure.phase == queued for name in names if name not in aborted
        )
    finally:
        bye = child.close() if child is not None else None
        log_tail = child.log_tail() if child is not None else ""
        if calls is not None:
            calls.close()
        admin.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    wall = mark_end["wall"] - mark_start["wall"]
    rpc_wall = window_end["t"] - window_start["t"]
    noticed = sorted(latencies.values())
    unexpected = [event for name, event in child.events.items() if name not in aborted or name in early]
    result = {
        "version": scenario.version.label, "module": started["module"], "n": n, "idp": scenario.idp,
        "warmup_s": round(warmup_s, 1), "window_s": round(wall, 1),
        "cpu_pct": round(100 * (mark_end["cpu"] - mark_start["cpu"]) / wall, 2),
        "rss_peak_mb": max(final["rss_peak_mb"], (bye or {}).get("rss_peak_mb", 0)),
        "rss_base_mb": started["rss_base_mb"],
        "tokens_total": last["tokens"] - first["tokens"],
        "tokens_window": window_end["tokens"] - window_start["tokens"],
        "status_rpcs_window": window_end["status"] - window_start["status"],
        "status_rpcs_window_by_method": {
            m: window_end["by_method"][m] - window_start["by_method"][m] for m in STATUS_RPCS
        },
        "status_rps": round((window_end["status"] - window_start["status"]) / rpc_wall, 2),
        "loop_lag_max_s": mark_end["loop_lag_max_s"],
        "pending_at_window_end": mark_end["pending"],
        "aborts": len(aborted), "noticed": len(noticed),
        "p50_s": round(statistics.median(noticed), 2) if noticed else None,
        "max_s": round(noticed[-1], 2) if noticed else None,
        "abort_latencies_s": {name: round(seconds, 3) for name, seconds in latencies.items()},
        "unexpected_events": unexpected, "still_queued": still_queued,
    }
    print(f"  CPU {result['cpu_pct']:.2f} % of a core, peak RSS {result['rss_peak_mb']:.0f} MB, "
          f"{result['tokens_total']} token requests ({result['tokens_window']} in the window), "
          f"{result['status_rps']:.2f} status RPC/s, aborts noticed {len(noticed)}/{len(aborted)}", flush=True)
    if unexpected or len(noticed) < len(aborted):
        result["child_log_tail"] = log_tail
        print(f"  WARNING: see the waiting process's log:\n{log_tail[-1500:]}", flush=True)
    if unexpected:
        print(f"  WARNING: {len(unexpected)} triggers ended without being aborted, e.g. {unexpected[0]}", flush=True)
    if still_queued != n - len(aborted):
        print(f"  WARNING: only {still_queued} of {n - len(aborted)} untouched executions are still QUEUED", flush=True)
    return result


def run_one(scenario: Scenario, args: argparse.Namespace) -> dict[str, Any]:
    """A failed scenario is reported as such; the others still run (full runs take an hour)."""
    try:
        return run_scenario(scenario, args)
    except Exception as err:  # noqa: BLE001
        print(f"  FAILED: {type(err).__name__}: {err}", flush=True)
        return {"version": scenario.version.label, "n": scenario.n, "idp": scenario.idp,
                "error": f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"}


def warm_up(child: Child, admin, first: dict[str, Any], args: argparse.Namespace) -> float:
    """At least ``--warmup`` s, then until the identity provider has been quiet for 5 s.

    Waits that fetch a token each (the old code) against a slow identity provider take N x 0.2 s
    to get going; measuring before they are all polling would flatter them.
    """
    began = time.monotonic()
    tokens, quiet_since = first["tokens"], began
    while True:
        child.pump(1.0)
        now = time.monotonic()
        current = counters(admin)
        if current["tokens"] != tokens:
            tokens, quiet_since = current["tokens"], now
        if now - began >= args.warmup and now - quiet_since >= 5.0 and current["status"] > first["status"]:
            return now - began
        if now - began >= args.warmup_max:
            print(f"  WARNING: still not settled after {args.warmup_max:.0f} s of warm-up; measuring anyway",
                  flush=True)
            return now - began


def abort_some(child: Child, calls: AdminCalls, names: list[str], count: int, spread: float) -> dict[str, float]:
    """Terminates ``count`` executions spread over the N, one every ``spread / count`` seconds.

    Spread in time, the aborts land at every point of the poll cycle, so their latencies sample it
    instead of all waiting for the same next poll. Returns when each abort was answered.
    """
    picked = [names[i * len(names) // count] for i in range(count)] if count else []
    aborted: dict[str, float] = {}
    began = time.monotonic()
    for i, name in enumerate(picked):
        while (left := began + i * spread / count - time.monotonic()) > 0:
            child.pump(left)
        calls.terminate(name)
        aborted[name] = time.time()  # the execution is ABORTED when the admin answers
    return aborted


def wait_for_events(child: Child, aborted: dict[str, float], timeout: float) -> dict[str, float]:
    """Seconds from each abort to its trigger's event, for those noticed within ``timeout``."""
    deadline = time.monotonic() + timeout
    while any(name not in child.events for name in aborted) and (left := deadline - time.monotonic()) > 0:
        child.pump(left)
    latencies = {}
    for name, at in aborted.items():
        event = child.events.get(name)
        if event is not None and event["phase"] == "ABORTED":
            latencies[name] = max(0.0, event["t"] - at)
    return latencies


# --------------------------------------------------------------------------- versions and report


def git(*argv: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *argv], check=True, capture_output=True, text=True,
                          timeout=120).stdout.strip()


def add_worktree(ref: str) -> tuple[Version, Path]:
    sha = git("rev-parse", "--verify", f"{ref}^{{commit}}")
    parent = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    tree = parent / "tree"
    git("worktree", "add", "--detach", str(tree), sha)
    return Version(f"baseline@{sha[:8]}", tree, tree / "airflow_provider_flyte"), parent


def remove_worktree(parent: Path) -> None:
    try:
        git("worktree", "remove", "--force", str(parent / "tree"))
    except subprocess.SubprocessError as err:
        print(f"could not remove the worktree {parent / 'tree'}: {err}", file=sys.stderr)
    shutil.rmtree(parent, ignore_errors=True)
    try:
        git("worktree", "prune")
    except subprocess.SubprocessError:
        pass


def fmt(value: Any, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


COLUMNS = [
    ("version", "version", "<17", ""), ("N", "n", ">6", ""), ("idp", "idp", "<6", ""),
    ("CPU %", "cpu_pct", ">7", ".2f"), ("RSS MB", "rss_peak_mb", ">7", ".0f"),
    ("tokens", "tokens_total", ">6", ""), ("(window)", "tokens_window", ">8", ""),
    ("RPC/s", "status_rps", ">7", ".2f"), ("aborts", None, ">7", ""),
    ("p50 s", "p50_s", ">6", ".2f"), ("max s", "max_s", ">6", ".2f"),
]


def print_report(results: list[dict[str, Any]], goals_n: int) -> tuple[list[dict], list[dict]]:
    print("\nN waits in one triggerer event loop (figures of the waiting process; RPCs and tokens seen by the admin)")
    header = "  ".join(format(title, align) for title, _, align, _ in COLUMNS)
    print(header)
    print("-" * len(header))
    for r in results:
        if "error" in r:
            print(f"{r['version']:<17}  {r['n']:>6}  {r['idp']:<6}  FAILED: {r['error']}")
            continue
        cells = []
        for _, key, align, spec in COLUMNS:
            value = f"{r['noticed']}/{r['aborts']}" if key is None else fmt(r[key], spec)
            cells.append(format(value, align))
        print("  ".join(cells))

    ratios = []
    measured = [r for r in results if "error" not in r]
    for after in (r for r in measured if r["version"] == "current"):
        for before in measured:
            if before["version"] != "current" and (before["n"], before["idp"]) == (after["n"], after["idp"]):
                ratio = {"n": after["n"], "idp": after["idp"], "before": before["version"]}
                for key in ("cpu_pct", "rss_peak_mb", "tokens_total", "status_rps", "p50_s", "max_s"):
                    b, a = before[key], after[key]
                    ratio[key] = None if b is None or a is None else (round(b / a, 2) if a else float("inf"))
                ratios.append(ratio)
    if ratios:
        print("\nbefore / after (baseline figure divided by current figure)")
        for ratio in ratios:
            cells = [f"{key.split('_')[0] if key != 'rss_peak_mb' else 'RSS'} {fmt(ratio[key], '.1f')}x"
                     for key in ("cpu_pct", "rss_peak_mb", "tokens_total", "status_rps", "p50_s", "max_s")]
            print(f"  N={ratio['n']:<5} {ratio['idp']:<6} {ratio['before']} / current:  " + ",  ".join(cells))

    goals = []
    judged = [r for r in measured if r["n"] == goals_n]
    print(f"\nGoals for N={goals_n:,}" + ("" if judged else ": no scenario at this N"))
    for r in judged:
        verdicts = []
        for title, key, limit in GOALS:
            value = r[key]
            if key == "noticed":
                ok, bound = value == r["aborts"], "all"
            else:
                ok, bound = value is not None and value <= limit, f"<= {limit:g}"
            verdicts.append({"figure": title, "value": value, "goal": bound, "pass": ok})
        goals.append({"version": r["version"], "n": r["n"], "idp": r["idp"], "verdicts": verdicts})
        print(f"  {r['version']}, {r['idp']} identity provider:")
        for v in verdicts:
            shown = f"{v['value']}/{r['aborts']}" if v["figure"] == "aborts noticed" else fmt(v["value"])
            print(f"    {v['figure']:<24} {shown:>8}  goal {v['goal']:<6}  {'PASS' if v['pass'] else 'FAIL'}")
    return ratios, goals


# --------------------------------------------------------------------------- command line


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100, 1000, 5000], help="waits per scenario")
    parser.add_argument("--window", type=float, default=60.0, help="steady-state window, seconds")
    parser.add_argument("--idp", choices=("both", "normal", "slow"), default="both", help="identity provider modes")
    parser.add_argument("--slow-idp", action="store_const", dest="idp", const="slow", help="same as --idp slow")
    parser.add_argument("--baseline-ref", help="git ref of the package to compare against (run from a worktree)")
    parser.add_argument("--baseline-n", type=int, nargs="+",
                        help=f"N values the baseline runs at (default: the --n values up to {BASELINE_MAX_N:,})")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--warmup", type=float, default=15.0, help="minimum warm-up before the window, seconds")
    parser.add_argument("--warmup-max", type=float, default=600.0, help="maximum warm-up, seconds")
    parser.add_argument("--waited", type=float, default=3600.0,
                        help="how long the waits have been waiting when the triggers start (their poll schedule)")
    parser.add_argument("--aborts", type=int, default=20, help="executions terminated after the window")
    parser.add_argument("--abort-spread", type=float, default=30.0, help="seconds over which the aborts are spread")
    parser.add_argument("--abort-wait", type=float, default=90.0,
                        help="how long after the last abort to wait for the aborts' events")
    parser.add_argument("--goals-n", type=int, default=GOALS_N,
                        help="the N the issue's goals are checked at (theirs: 1,000; a smaller one for a trial run)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--expect-root", help=argparse.SUPPRESS)
    parser.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.child and (min(args.n) < 1 or args.window <= 0):
        parser.error("--n values must be positive and --window > 0")
    return args


def main() -> None:
    args = parse_args()
    if args.child:
        args.n = args.child_n
        return child_main(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: child killed, admin stopped, worktree removed
    _raise_fd_limit()
    sys.path.insert(0, str(REPO))
    current = Version("current", REPO, REPO / "airflow_provider_flyte")
    idps = ("normal", "slow") if args.idp == "both" else (args.idp,)
    baseline_n = set(args.baseline_n or [n for n in args.n if n <= BASELINE_MAX_N])
    worktree = None
    results: list[dict[str, Any]] = []
    try:
        versions = [current]
        if args.baseline_ref:
            baseline, worktree = add_worktree(args.baseline_ref)
            versions.append(baseline)
            print(f"baseline {args.baseline_ref} checked out at {baseline.root}")
        for idp in idps:
            for n in args.n:
                for version in versions:
                    if version is current or n in baseline_n:
                        results.append(run_one(Scenario(version, n, idp), args))
    finally:
        if worktree is not None:
            remove_worktree(worktree)
    ratios, goals = print_report(results, args.goals_n)
    if args.json:
        head = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
        args.json.write_text(json.dumps({
            "commit": head, "working_tree_modified": dirty, "baseline_ref": args.baseline_ref,
            "window_s": args.window, "waited_s": args.waited, "cpus": os.cpu_count(), "python": sys.version.split()[0],
            "scenarios": results, "ratios": ratios, "goals": goals,
        }, indent=2))
        print(f"\nfigures written to {args.json}")


if __name__ == "__main__":
    main()
