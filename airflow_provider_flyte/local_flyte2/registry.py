"""The deployed tasks: found in the user's Python files, described to clients as the Flyte 2 SDK deploys them.

Each ``flyte.TaskEnvironment`` task in the given files becomes one deployed task, named as Flyte 2 names it
(``<environment name>.<function name>``) and versioned by a hash of its file, so a run that names a version
runs the code that version describes. The ``TaskSpec`` is the one the SDK itself would deploy (its own
``translate_task_to_wire``), so ``flyte.remote.Task`` reads the interface, defaults and timeout it expects.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import importlib.util
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from flyteidl2.task import task_definition_pb2

# How many characters of the file's SHA-256 make a version: short enough to read in a log, long enough
# never to repeat between two edits of one file.
_VERSION_LENGTH = 16


@dataclass(frozen=True)
class DeployedTask:
    """One deployed task version: its identity, its wire spec, and where its code lives for the runner."""

    task_id: task_definition_pb2.TaskIdentifier
    spec: task_definition_pb2.TaskSpec
    source_file: Path
    deployed_at: float

    @property
    def name(self) -> str:
        return self.task_id.name

    @property
    def timeout_seconds(self) -> float | None:
        """The task's declared maximum run time, or None when it declares none."""
        timeout = self.spec.task_template.metadata.timeout
        seconds = timeout.seconds + timeout.nanos / 1e9
        return seconds or None

    def details(self) -> task_definition_pb2.TaskDetails:
        """What GetTaskDetails answers for this version."""
        return task_definition_pb2.TaskDetails(task_id=self.task_id, metadata=self.metadata(), spec=self.spec)

    def summary(self) -> task_definition_pb2.Task:
        """What ListTasks answers for this version."""
        return task_definition_pb2.Task(task_id=self.task_id, metadata=self.metadata())

    def metadata(self) -> task_definition_pb2.TaskMetadata:
        metadata = task_definition_pb2.TaskMetadata(
            short_name=self.spec.short_name, environment_name=self.spec.environment.name
        )
        metadata.deployed_at.FromNanoseconds(int(self.deployed_at * 1e9))
        return metadata


def file_version(path: Path) -> str:
    """A deterministic version for every task of one file: the same file content gives the same version."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:_VERSION_LENGTH]


def python_files(paths: Iterable[str | Path]) -> list[Path]:
    """The Python files named, with directories expanded to the ``*.py`` files under them (sorted)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw).resolve()
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such task file or directory: {raw}")
    return files


def import_task_file(path: Path) -> ModuleType:
    """Import a user's task file by path, as its own top-level module (its folder on sys.path for its siblings).

    The runner imports the file the same way, so the task objects found here and the ones it calls agree.
    """
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def environments_of(module: ModuleType) -> list[object]:
    """The ``flyte.TaskEnvironment`` objects a module defines at top level."""
    import flyte

    return [value for value in vars(module).values() if isinstance(value, flyte.TaskEnvironment)]


async def _wire_spec(task: object, source_file: Path, version: str, project: str, domain: str) -> task_definition_pb2.TaskSpec:
    """The TaskSpec the SDK deploys for ``task`` (its interface, default inputs, metadata), built by the SDK."""
    from flyte._internal.runtime.convert import convert_upload_default_inputs
    from flyte._internal.runtime.task_serde import translate_task_to_wire
    from flyte.models import SerializationContext

    context = SerializationContext(version=version, project=project, domain=domain, org="", root_dir=source_file.parent)
    default_inputs = await convert_upload_default_inputs(task.interface)  # type: ignore[attr-defined]
    spec: task_definition_pb2.TaskSpec = translate_task_to_wire(task, context, default_inputs=default_inputs)  # type: ignore[arg-type]
    return spec


class TaskRegistry:
    """The deployed task versions, keyed by (project, domain, name, version); org is not part of the key,
    as in the open-source service's task table."""

    def __init__(self) -> None:
        self._tasks: dict[tuple[str, str, str, str], DeployedTask] = {}

    def load(self, paths: Sequence[str | Path], project: str, domain: str) -> list[DeployedTask]:
        """Deploy every TaskEnvironment task in ``paths`` to ``project``/``domain``; returns what it deployed.

        The SDK builds specs with coroutines; they run on a loop of their own, in a thread of their own when
        the caller is itself on a running loop (an async test or app may start the service too)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._load(paths, project, domain))
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self._load(paths, project, domain)).result()

    async def _load(self, paths: Sequence[str | Path], project: str, domain: str) -> list[DeployedTask]:
        deployed = []
        for path in python_files(paths):
            module = import_task_file(path)
            version = file_version(path)
            for env in environments_of(module):
                for task in env.tasks.values():  # type: ignore[attr-defined]
                    if getattr(task.func, "__module__", None) != module.__name__:
                        continue  # a task of an environment this file imports: deployed with its own file
                    spec = await _wire_spec(task, path, version, project, domain)
                    task_id = task_definition_pb2.TaskIdentifier(
                        project=project, domain=domain, name=task.name, version=version
                    )
                    deployed.append(self.add(DeployedTask(task_id, spec, path, time.time())))
        return deployed

    def add(self, task: DeployedTask) -> DeployedTask:
        tid = task.task_id
        self._tasks[(tid.project, tid.domain, tid.name, tid.version)] = task
        return task

    def get(self, task_id: task_definition_pb2.TaskIdentifier) -> DeployedTask:
        """The version ``task_id`` names; not_found (as the real service) when there is none."""
        key = (task_id.project, task_id.domain, task_id.name, task_id.version)
        task = self._tasks.get(key)
        if task is None:
            raise ConnectError(
                Code.NOT_FOUND,
                f"task not found: {{Project:{key[0]} Domain:{key[1]} Name:{key[2]} Version:{key[3]}}}",
            )
        return task

    def versions(self, project: str, domain: str, name: str | None = None) -> list[DeployedTask]:
        """The versions deployed to a project and domain (of one task name when given), oldest first."""
        found = [
            t
            for (p, d, n, _), t in self._tasks.items()
            if p == project and d == domain and (name is None or n == name)
        ]
        return sorted(found, key=lambda t: (t.deployed_at, t.name))
