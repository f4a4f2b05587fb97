"""`LocalFlyteAdmin`: the admin's lifecycle, for tests (in-process) and the CLI alike.

The gRPC server runs on threads of this process; executions run in worker processes, so a
test can hold the admin in a fixture while its runs are real and killable.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent import futures
from pathlib import Path
from typing import Literal

import grpc
from flyteidl.admin import execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service import admin_pb2_grpc

from airflow_provider_flyte.local_admin.executions import ExecutionStore, now
from airflow_provider_flyte.local_admin.launchers import Launcher, SubprocessLauncher, ZygoteLauncher
from airflow_provider_flyte.local_admin.modules import content_version, import_module, locate_module, module_entities
from airflow_provider_flyte.local_admin.registry import Registry
from airflow_provider_flyte.local_admin.runner import DEFAULT_PARALLELISM, ExecutionRunner
from airflow_provider_flyte.local_admin.serialization import serialize_entities
from airflow_provider_flyte.local_admin.service import AdminService

HOST = "127.0.0.1"
WorkerMode = Literal["zygote", "subprocess"]
_RPC_THREADS = 16


class _RpcCounter(grpc.ServerInterceptor):
    """Counts every RPC received by method name, including ones answered UNIMPLEMENTED."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def intercept_service(self, continuation, handler_call_details):
        with self._lock:
            self.counts[handler_call_details.method.rsplit("/", 1)[-1]] += 1
        return continuation(handler_call_details)


class LocalFlyteAdmin:
    def __init__(
        self,
        workflows: Sequence[str | Path] = (),
        project: str = "flytesnacks",
        domain: str = "development",
        port: int = 0,
        activate_launch_plans: bool = False,
        parallelism: int = DEFAULT_PARALLELISM,
        worker_mode: WorkerMode = "zygote",
    ) -> None:
        self.project = project
        self.domain = domain
        self._requested_port = port
        self._activate_launch_plans = activate_launch_plans
        self._parallelism = parallelism
        self._worker_mode = worker_mode
        self._workflow_files = list(workflows)
        self._registry = Registry(project, domain)
        self._store = ExecutionStore()
        self._counter = _RpcCounter()
        self._launcher: Launcher | None = None
        self._runner: ExecutionRunner | None = None
        self._server: grpc.Server | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def rpc_counts(self) -> dict[str, int]:
        return dict(self._counter.counts)

    def start(self) -> "LocalFlyteAdmin":
        self._launcher = ZygoteLauncher() if self._worker_mode == "zygote" else SubprocessLauncher()
        self._runner = ExecutionRunner(self._store, self._launcher, self._parallelism)
        for path in self._workflow_files:
            self.register_module(path)
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=_RPC_THREADS, thread_name_prefix="admin-rpc"),
            interceptors=[self._counter],
        )
        admin_pb2_grpc.add_AdminServiceServicer_to_server(
            AdminService(self._registry, self._store, self._runner), server
        )
        self.port = server.add_insecure_port(f"{HOST}:{self._requested_port}")
        if self.port == 0:
            raise OSError(f"could not bind {HOST}:{self._requested_port}")
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        """Stops serving, then aborts what is still queued or running (no worker survives it)."""
        if self._server is not None:
            self._server.stop(grace=None).wait()
            self._server = None
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def __enter__(self) -> "LocalFlyteAdmin":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def register_module(self, path: str | Path) -> None:
        """Registers the file's tasks, workflows and launch plans at a version derived from its content."""
        location = locate_module(path)
        entities = module_entities(import_module(location))
        registration = serialize_entities(
            entities, self.project, self.domain, content_version(path), self._activate_launch_plans, now()
        )
        self._registry.add(registration, location)
        if self._launcher is not None:
            self._launcher.preload(location)

    def get_execution(self, name: str) -> execution_pb2.Execution:
        return self._store.get(self._execution_id(name))

    def wait_for_phase(self, name: str, phases: Iterable[int], timeout: float = 30.0) -> execution_pb2.Execution:
        return self._store.wait_for_phase(self._execution_id(name), phases, timeout)

    def phase_history(self, name: str) -> list[int]:
        """Every phase the execution went through, for asserting transitions a poller could miss."""
        return self._store.history(self._execution_id(name))

    def executions(self) -> list[execution_pb2.Execution]:
        return self._store.all()

    def _execution_id(self, name: str) -> identifier_pb2.WorkflowExecutionIdentifier:
        return identifier_pb2.WorkflowExecutionIdentifier(project=self.project, domain=self.domain, name=name)
