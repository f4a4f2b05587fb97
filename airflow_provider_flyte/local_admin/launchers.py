"""Ways to start a worker process; the runner only sees `Launcher` and `WorkerProcess`.

Every worker leads its own session (process group), so killing the group kills anything the
user's code spawned too. `SubprocessLauncher` pays flytekit's import cost (~1 s) on every run;
`ZygoteLauncher` pays it once and forks a warm child per execution.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Protocol

from airflow_provider_flyte.local_admin.modules import ModuleLocation
from airflow_provider_flyte.local_admin.worker import WorkerJob

LOG_FILE = "worker.log"


class WorkerProcess(Protocol):
    def wait(self, timeout: float | None = None) -> bool:
        """True once the worker has exited."""

    def kill(self) -> None:
        """Kills the worker's whole process group; harmless if it is already gone."""


class Launcher(Protocol):
    def preload(self, location: ModuleLocation) -> None:
        """Lets a warm launcher import a workflow module before its first execution."""

    def launch(self, job: WorkerJob) -> WorkerProcess: ...

    def close(self) -> None: ...


def kill_group(pid: int, *, leader_alive: bool = True) -> None:
    """Kills the group led by `pid`, and `pid` itself in case it has not made its group yet.

    Once the leader has been reaped its pid may belong to another process, so only the group
    (which keeps the number reserved while any member lives) is signalled then.
    """
    kills = (os.killpg, os.kill) if leader_alive else (os.killpg,)
    for kill in kills:
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class _Popened:
    def __init__(self, process: subprocess.Popen) -> None:
        self._process = process

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is not None:
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            kill_group(self._process.pid, leader_alive=False)
            return True
        # Wait without reaping, so the group is killed while its number is still ours.
        os.waitid(os.P_PID, self._process.pid, os.WEXITED | os.WNOWAIT)
        kill_group(self._process.pid)  # whatever the worker left behind in its group
        self._process.wait()
        return True

    def kill(self) -> None:
        kill_group(self._process.pid)


class SubprocessLauncher:
    """One fresh interpreter per execution: simplest, and isolated from anything the admin imported."""

    def preload(self, location: ModuleLocation) -> None:
        return None

    def launch(self, job: WorkerJob) -> WorkerProcess:
        with open(Path(job.work_dir) / LOG_FILE, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "airflow_provider_flyte.local_admin.worker", *job.to_argv()],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return _Popened(process)

    def close(self) -> None:
        return None


class _ForkedChild:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._exited = threading.Event()

    def mark_exited(self) -> None:
        self._exited.set()

    def wait(self, timeout: float | None = None) -> bool:
        if not self._exited.wait(timeout):
            return False
        kill_group(self.pid, leader_alive=False)  # the zygote has reaped the leader already
        return True

    def kill(self) -> None:
        if not self._exited.is_set():
            kill_group(self.pid)


class ZygoteLauncher:
    """Talks JSON lines to a `zygote` process that has flytekit imported and forks on request."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "airflow_provider_flyte.local_admin.zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            start_new_session=True,
        )
        self._lock = threading.Lock()
        self._replies: dict[int, threading.Event] = {}
        self._pids: dict[int, int] = {}
        self._children: dict[int, _ForkedChild] = {}
        self._early_exits: set[int] = set()
        self._next_request = 0
        self._reader = threading.Thread(target=self._read_replies, name="zygote-reader", daemon=True)
        self._reader.start()

    def preload(self, location: ModuleLocation) -> None:
        self._send({"op": "preload", "import_root": location.import_root, "module_name": location.module_name})

    def launch(self, job: WorkerJob) -> WorkerProcess:
        with self._lock:
            self._next_request += 1
            request = self._next_request
            replied = self._replies[request] = threading.Event()
        self._send({"op": "run", "request": request, "argv": job.to_argv()})
        if not replied.wait(30) or self._pids.get(request, -1) < 0:
            raise RuntimeError("the zygote worker did not start the execution")
        pid = self._pids.pop(request)
        with self._lock:
            child = self._children[pid] = _ForkedChild(pid)
            if pid in self._early_exits:
                self._early_exits.discard(pid)
                child.mark_exited()
        return child

    def close(self) -> None:
        with self._lock:
            children = list(self._children.values())
        for child in children:
            child.kill()
        kill_group(self._process.pid)
        self._process.wait()

    def _send(self, message: dict) -> None:
        assert self._process.stdin is not None
        with self._lock:
            self._process.stdin.write((json.dumps(message) + "\n").encode())

    def _read_replies(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            reply = json.loads(line)
            with self._lock:
                if "request" in reply:
                    self._pids[reply["request"]] = reply["pid"]
                    self._replies.pop(reply["request"]).set()
                elif reply["exited"] in self._children:
                    self._children.pop(reply["exited"]).mark_exited()
                else:
                    self._early_exits.add(reply["exited"])
        with self._lock:  # the zygote is gone: nothing it forked will be reported any more
            for child in self._children.values():
                child.mark_exited()
            for event in self._replies.values():
                event.set()
