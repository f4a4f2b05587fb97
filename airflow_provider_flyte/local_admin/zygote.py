"""A pre-warmed worker parent: imports flytekit (and workflow modules) once, forks per execution.

It stays single-threaded on purpose, because forking a multi-threaded process can copy locks in
a held state; it multiplexes its command pipe and child reaping in one loop instead.
Protocol (JSON lines): in `{"op": "preload", ...}` / `{"op": "run", "request": n, "argv": [...]}`,
out `{"request": n, "pid": p}` and `{"exited": p, "status": code}`.
"""

from __future__ import annotations

import json
import os
import select
import sys
from pathlib import Path

from airflow_provider_flyte.local_admin.modules import ModuleLocation, import_module
from airflow_provider_flyte.local_admin.worker import WorkerJob, run_job

_REAP_INTERVAL = 0.02


def main() -> None:
    commands = sys.stdin.buffer
    # Replies get a private copy of stdout; fd 1 becomes stderr so prints in imported modules
    # cannot corrupt the protocol.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    pending = b""
    while True:
        _reap(replies)
        ready, _, _ = select.select([commands], [], [], _REAP_INTERVAL)
        if not ready:
            continue
        chunk = os.read(commands.fileno(), 65536)
        if not chunk:
            return
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            _handle(json.loads(line), replies)


def _handle(command: dict, replies) -> None:
    if command["op"] == "preload":
        try:
            import_module(ModuleLocation(command["import_root"], command["module_name"]))
        except Exception:  # noqa: BLE001 - the forked worker will report the import error properly
            pass
        return
    job = WorkerJob.from_argv(command["argv"])
    pid = os.fork()
    if pid == 0:
        replies.close()
        _become_worker(job)
    _reply(replies, {"request": command["request"], "pid": pid})


def _become_worker(job: WorkerJob) -> None:
    status = 1
    try:
        os.setsid()
        log = os.open(Path(job.work_dir) / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        run_job(job)
        status = 0
    finally:
        os._exit(status)


def _reap(replies) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _reply(replies, {"exited": pid, "status": os.waitstatus_to_exitcode(status)})


def _reply(replies, message: dict) -> None:
    replies.write((json.dumps(message) + "\n").encode())
    replies.flush()


if __name__ == "__main__":
    main()
