"""`LocalFlyteAdmin`: the admin's lifecycle, for tests (in-process) and the CLI alike.

The gRPC server runs on threads of this process; executions run in worker processes, so a
test can hold the admin in a fixture while its runs are real and killable.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent import futures
from pathlib import Path
from typing import Literal

import grpc
from flyteidl.admin import execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service import admin_pb2_grpc, auth_pb2_grpc

from airflow_provider_flyte.local_admin.auth import (
    AuthMetadataService,
    BearerAuthInterceptor,
    ClientSecretAuth,
    TokenEndpoint,
    TokenIssuer,
    principal,
)
from airflow_provider_flyte.local_admin.executions import ExecutionStore
from airflow_provider_flyte.local_admin.faults import FaultInjector
from airflow_provider_flyte.local_admin.launchers import (
    Launcher,
    SubprocessLauncher,
    ZygoteLauncher,
)
from airflow_provider_flyte.local_admin.modules import (
    content_version,
    import_module,
    locate_module,
    module_entities,
)
from airflow_provider_flyte.local_admin.persistence import Journal
from airflow_provider_flyte.local_admin.protos import now
from airflow_provider_flyte.local_admin.registry import Registry
from airflow_provider_flyte.local_admin.runner import (
    DEFAULT_PARALLELISM,
    ExecutionRunner,
)
from airflow_provider_flyte.local_admin.serialization import serialize_entities
from airflow_provider_flyte.local_admin.service import AdminService
from airflow_provider_flyte.local_admin.tls import Certificate, self_signed

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
        auth: ClientSecretAuth | None = None,
        tls: bool = False,
        state_dir: str | Path | None = None,
    ) -> None:
        """`parallelism` bounds the executions running at once; 0 holds every execution QUEUED."""
        if parallelism < 0:
            raise ValueError(f"parallelism must be 0 or more, not {parallelism}")
        self.project = project
        self.domain = domain
        self._requested_port = port
        self._activate_launch_plans = activate_launch_plans
        self._parallelism = parallelism
        self._worker_mode = worker_mode
        self._workflow_files = list(workflows)
        self._state_dir = Path(state_dir) if state_dir is not None else None
        self._journal: Journal | None = None
        self._registry = Registry(project, domain)
        self._store = ExecutionStore()
        self._counter = _RpcCounter()
        self._launcher: Launcher | None = None
        self._runner: ExecutionRunner | None = None
        self._service: AdminService | None = None
        self._server: grpc.Server | None = None
        self._serving_lock = threading.Lock()
        self._resume_timer: threading.Timer | None = None
        self.faults = FaultInjector(self.pause_serving, self.resume_serving)
        self.tokens: TokenIssuer | None = TokenIssuer(auth) if auth is not None else None
        self._auth = auth
        self._tls = tls
        self._secrets_dir: Path | None = None
        self._certificate: Certificate | None = None
        self._token_endpoint: TokenEndpoint | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def ca_cert_path(self) -> str | None:
        """The PEM file clients trust to reach a `tls=True` admin (it is its own CA); None without TLS."""
        return str(self._certificate.cert_path) if self._certificate is not None else None

    @property
    def token_endpoint(self) -> str | None:
        """The OAuth2 token endpoint's URL when auth is on."""
        return self._token_endpoint.url if self._token_endpoint is not None else None

    @property
    def rpc_counts(self) -> dict[str, int]:
        return dict(self._counter.counts)

    def start(self) -> LocalFlyteAdmin:
        try:
            return self._start()
        except BaseException:
            self.stop()  # no zygote, runner thread or token endpoint outlives a failed start
            raise

    def _start(self) -> LocalFlyteAdmin:
        work_root = self._open_state() if self._state_dir is not None else None
        # With parallelism 0 nothing is ever launched: no zygote process either.
        zygote = self._worker_mode == "zygote" and self._parallelism > 0
        self._launcher = ZygoteLauncher() if zygote else SubprocessLauncher()
        self._runner = ExecutionRunner(self._store, self._launcher, self._parallelism, work_root)
        for path in self._workflow_files:
            self.register_module(path)
        self._start_security()
        self._service = AdminService(
            self._registry, self._store, self._runner, identify=functools.partial(principal, self.tokens)
        )
        with self._serving_lock:
            self._server, self.port = self._serve(self._requested_port)
        return self

    def _open_state(self) -> Path:
        """Loads registrations and executions from the state dir; returns where run data is kept."""
        assert self._state_dir is not None
        self._journal = Journal(self._state_dir)
        self._registry = Registry(self.project, self.domain, self._journal)
        self._registry.restore(self._journal.entities())
        self._store = ExecutionStore(self._journal)
        self._store.restore(self._journal.executions())
        return self._journal.runs_dir

    def _start_security(self) -> None:
        """The certificate first: the token endpoint serves HTTPS with it when TLS is on."""
        if self._tls:
            self._secrets_dir = Path(tempfile.mkdtemp(prefix="flyte-local-admin-tls-"))
            self._certificate = self_signed(self._secrets_dir)
        if self.tokens is not None:
            tls_context = self._certificate.server_context() if self._certificate is not None else None
            self._token_endpoint = TokenEndpoint(self.tokens, HOST, tls_context)

    def pause_serving(self, seconds: float) -> None:
        """Closes the port at once (in-flight calls are cancelled) and reopens it after `seconds`.

        Executions keep running meanwhile, like a FlyteAdmin restart behind a stable address.
        """
        with self._serving_lock:
            if self._server is None:
                raise RuntimeError("the admin is not serving")
            self._server.stop(grace=None).wait()
            self._server = None
            self._resume_timer = threading.Timer(seconds, self.resume_serving)
            self._resume_timer.daemon = True
            self._resume_timer.start()

    @property
    def serving(self) -> bool:
        return self._server is not None

    def resume_serving(self) -> None:
        """Ends a pause early; does nothing when the admin is not paused."""
        with self._serving_lock:
            if self._resume_timer is None:
                return  # not paused, or stopped meanwhile
            self._resume_timer.cancel()
            self._resume_timer = None
            self._server, _ = self._serve(self.port)

    def _serve(self, port: int) -> tuple[grpc.Server, int]:
        guard = [BearerAuthInterceptor(self.tokens)] if self.tokens is not None else []
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=_RPC_THREADS, thread_name_prefix="admin-rpc"),
            interceptors=[self._counter, *guard, self.faults],
            # grpc enables SO_REUSEPORT by default: a second admin would share the port silently.
            options=[("grpc.so_reuseport", 0)],
        )
        admin_pb2_grpc.add_AdminServiceServicer_to_server(self._service, server)
        if self._token_endpoint is not None and self._auth is not None:
            auth_pb2_grpc.add_AuthMetadataServiceServicer_to_server(
                AuthMetadataService(self._token_endpoint, self._auth.client_id), server
            )
        try:
            if self._certificate is not None:
                credentials = grpc.ssl_server_credentials([(self._certificate.key_pem, self._certificate.cert_pem)])
                bound = server.add_secure_port(f"{HOST}:{port}", credentials)
            else:
                bound = server.add_insecure_port(f"{HOST}:{port}")
        except RuntimeError as error:  # newer grpc raises where older returned 0
            raise OSError(f"could not bind {HOST}:{port}: {error}") from None
        if bound == 0:
            raise OSError(f"could not bind {HOST}:{port}")
        server.start()
        return server, bound

    def stop(self) -> None:
        """Stops serving, then aborts what is still queued or running (no worker survives it)."""
        with self._serving_lock:
            if self._resume_timer is not None:
                self._resume_timer.cancel()
                self._resume_timer = None
            if self._server is not None:
                self._server.stop(grace=None).wait()
                self._server = None
        if self._token_endpoint is not None:
            self._token_endpoint.close()
            self._token_endpoint = None
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._secrets_dir is not None:
            shutil.rmtree(self._secrets_dir, ignore_errors=True)
            self._secrets_dir = None

    def __enter__(self) -> LocalFlyteAdmin:
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
