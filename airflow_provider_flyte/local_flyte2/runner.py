"""Runs one action's task function in a process of its own, so an abort or a timeout can kill it outright.

The parent writes the action's folder (``job.json`` naming the file and task, ``inputs.pb``) and starts
``python -m airflow_provider_flyte.local_flyte2.runner FOLDER`` in a new session (its own process group,
so killing the group also ends anything the task started). The child imports the user's file, turns the
inputs into Python values with the SDK's type engine, writes ``started``, calls the function (awaiting it when it is a
coroutine, as Flyte 2 tasks often are), and writes ``outputs.pb`` or, when the function raised,
``error.json`` with the message the run's ``error_info`` carries.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import shutil
import signal
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

JOB_FILE = "job.json"
INPUTS_FILE = "inputs.pb"
OUTPUTS_FILE = "outputs.pb"
ERROR_FILE = "error.json"
LOG_FILE = "log.txt"
STARTED_FILE = "started"  # written just before the task function is called: its timeout counts from then


@dataclass(frozen=True)
class Failure:
    """Why a task function failed: the exception's last traceback line, its class name (the error code the
    SDK turns back into an exception), and the whole traceback for the log."""

    message: str
    code: str
    traceback: str


def prepare(folder: Path, source_file: Path, task_name: str, inputs: bytes) -> None:
    """Lay out an action's folder for the runner (emptied first: a state folder kept from an earlier start
    of the service may hold another run of the same name, whose outputs must not pass for this one's)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / JOB_FILE).write_text(json.dumps({"file": str(source_file), "task": task_name}))
    (folder / INPUTS_FILE).write_bytes(inputs)


async def start(folder: Path) -> asyncio.subprocess.Process:
    """Start the runner on a prepared folder; its output (stdout and stderr) goes to ``folder/log.txt``."""
    log = open(folder / LOG_FILE, "wb")  # noqa: SIM115 - the child owns the descriptor once started
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            str(folder),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()


def kill(process: asyncio.subprocess.Process) -> None:
    """Kill the runner and everything it started (its whole process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def outputs_of(folder: Path) -> bytes | None:
    path = folder / OUTPUTS_FILE
    return path.read_bytes() if path.exists() else None


def failure_of(folder: Path) -> Failure | None:
    path = folder / ERROR_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return Failure(message=data["message"], code=data["code"], traceback=data["traceback"])


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "the task failed"


async def _run(folder: Path) -> int:
    from flyte._internal.runtime import convert
    from flyteidl2.task import common_pb2

    from airflow_provider_flyte.local_flyte2.registry import environments_of, import_task_file

    job = json.loads((folder / JOB_FILE).read_text())
    module = import_task_file(Path(job["file"]))
    tasks = {name: task for env in environments_of(module) for name, task in env.tasks.items()}  # type: ignore[attr-defined]
    task = tasks[job["task"]]
    proto_inputs = common_pb2.Inputs.FromString((folder / INPUTS_FILE).read_bytes())
    try:
        kwargs = await convert.convert_from_inputs_to_native(task.native_interface, convert.Inputs(proto_inputs))
        (folder / STARTED_FILE).touch()
        result = task.func(**kwargs)
        if inspect.isawaitable(result):
            result = await result
        outputs = await convert.convert_from_native_to_outputs(result, task.native_interface, task.name)
    except Exception as exc:
        text = traceback.format_exc()
        failure = {"message": _last_line(text), "code": type(exc).__name__, "traceback": text}
        (folder / ERROR_FILE).write_text(json.dumps(failure))
        sys.stderr.write(text)
        return 1
    (folder / OUTPUTS_FILE).write_bytes(outputs.proto_outputs.SerializeToString())
    return 0


def main() -> None:
    sys.exit(asyncio.run(_run(Path(sys.argv[1]))))


if __name__ == "__main__":
    main()
