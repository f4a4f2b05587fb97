"""`LocalFlyteAdmin`: the admin's lifecycle, for tests (in-process) and the CLI alike.

The gRPC server runs on threads of this process; executions run in worker processes, so a
test can hold the admin in a fixture while its runs are real and killable.

With the console on (the default), the public port belongs to `front.PortFront`: HTTP/1.1
requests get the read-only console (`console.py`), everything else is passed through to the
gRPC server on an internal loopback port. `console=False` binds gRPC on the public port itself.
"""

from __future__ import annotations

import functools
import json
import shutil
import ssl
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent import futures
from pathlib import Path
from typing import Any, Literal

import grpc
from flyteidl.admin import execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service import admin_pb2_grpc, auth_pb2_grpc, signal_pb2_grpc

from airflow_provider_flyte.local_admin.auth import (
    AuthMetadataService,
    BearerAuthInterceptor,
    ClientSecretAuth,
    TokenEndpoint,
    TokenIssuer,
    principal,
)
from airflow_provider_flyte.local_admin.connection import (
    DEFAULT_CONN_ID,
    airflow_connection,
    connection_text,
    env_var_name,
)
from airflow_provider_flyte.local_admin.console import CONSOLE_PATH, Console, execution_path
from airflow_provider_flyte.local_admin.executions import ExecutionStore
from airflow_provider_flyte.local_admin.faults import FaultInjector
from airflow_provider_flyte.local_admin.front import PortFront
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
    workflow_files,
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
from airflow_provider_flyte.local_admin.signal_service import SignalService
from airflow_provider_flyte.local_admin.signals import SignalFiles
from airflow_provider_flyte.local_admin.tls import Certificate, self_signed

HOST = "127.0.0.1"
_WILDCARD_HOSTS = {"0.0.0.0", "::", ""}
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
        host: str = HOST,
        public_host: str | None = None,
        console: bool = True,
    ) -> None:
        """`parallelism` bounds the executions running at once; 0 holds every execution QUEUED.

        `host` is the address to bind (`0.0.0.0` for every interface); `public_host` the name
        clients use to reach it (default: `host`, or 127.0.0.1 when `host` is a wildcard): it
        is in `endpoint`, the printed connection, the token endpoint's URL and the certificate.
        `console` serves the read-only console on the same port (HTTP/1.1).
        """
        if parallelism < 0:
            raise ValueError(f"parallelism must be 0 or more, not {parallelism}")
        self.host = host
        self.public_host = public_host or (HOST if host in _WILDCARD_HOSTS else host)
        self._console_enabled = console
        self._front: PortFront | None = None
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
        """`host:port` where clients reach the admin (gRPC, and the console on the same port)."""
        return _host_port(self.public_host, self.port)

    @property
    def listen_address(self) -> str:
        """`host:port` the admin binds (the same as `endpoint` unless it binds a wildcard)."""
        return _host_port(self.host, self.port)

    @property
    def console_url(self) -> str | None:
        """The console's index page (`http` when plaintext, `https` with TLS); None with `console=False`."""
        if not self._console_enabled:
            return None
        return f"{'https' if self._tls else 'http'}://{self.endpoint}{CONSOLE_PATH}"

    def execution_url(self, name: str, project: str | None = None, domain: str | None = None) -> str:
        """An execution's console page: the URL the provider's console link uses for this admin."""
        scheme = "https" if self._tls else "http"
        return f"{scheme}://{self.endpoint}{execution_path(project or self.project, domain or self.domain, name)}"

    def airflow_connection(self) -> dict[str, Any]:
        """The Airflow connection that reaches this admin, in Airflow's JSON form.

        Plaintext: `insecure: true`; TLS: `ca_cert_path`; client credentials: login, password
        and `auth_mode`; and the admin's project and domain. `json.dumps` of it is the value of
        an `AIRFLOW_CONN_<ID>` variable (see `airflow_connection_env`).
        """
        if not self.port:
            raise RuntimeError("the admin has not started: it has no port yet")
        return airflow_connection(
            self.public_host,
            self.port,
            self.project,
            self.domain,
            ca_cert_path=self.ca_cert_path,
            client_id=self._auth.client_id if self._auth is not None else None,
            client_secret=self._auth.client_secret if self._auth is not None else None,
        )

    def airflow_connection_env(self, conn_id: str = DEFAULT_CONN_ID) -> dict[str, str]:
        """`{"AIRFLOW_CONN_<CONN_ID>": "<json>"}`, to merge into an environment."""
        return {env_var_name(conn_id): json.dumps(self.airflow_connection())}

    def airflow_connection_text(self, conn_id: str = DEFAULT_CONN_ID) -> str:
        """What `flyte-local-admin` prints: a header, then `export AIRFLOW_CONN_...='{...}'` and
        `airflow connections add <conn_id> --conn-type flyte ...`, each one shell line."""
        return connection_text(self.airflow_connection(), conn_id)

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
        for path in workflow_files(self._workflow_files):
            self.register_module(path)
        self._start_security()
        self._service = AdminService(
            self._registry, self._store, self._runner, identify=functools.partial(principal, self.tokens)
        )
        with self._serving_lock:
            self._server, self.port = self._serve(self._requested_port)
        return self

    def _signal_files(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> SignalFiles:
        """The signals of an execution that exists (NOT_FOUND otherwise), kept with its run."""
        assert self._runner is not None
        self._store.get(execution_id)
        return SignalFiles(self._runner.work_dir(execution_id))

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
            self._certificate = self_signed(self._secrets_dir, hosts=[self.host, self.public_host])
        if self.tokens is not None:
            tls_context = self._certificate.server_context() if self._certificate is not None else None
            self._token_endpoint = TokenEndpoint(self.tokens, self.host, tls_context, public_host=self.public_host)

    def pause_serving(self, seconds: float) -> None:
        """Closes the port at once (in-flight calls are cancelled) and reopens it after `seconds`.

        Executions keep running meanwhile, like a FlyteAdmin restart behind a stable address.
        """
        with self._serving_lock:
            if self._server is None:
                raise RuntimeError("the admin is not serving")
            self._close_port()
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
        """Opens the public port: gRPC on it, or the front on it and gRPC behind it."""
        if not self._console_enabled:
            return self._serve_grpc(self.host, port)
        server, upstream_port = self._serve_grpc(HOST, 0)
        try:
            self._front = PortFront(
                self.host,
                port,
                upstream=(HOST, upstream_port),
                serve_http=Console(self._store, self._work_dir).serve,
                tls=self._console_tls(),
            )
        except BaseException:
            server.stop(grace=None).wait()
            raise
        return server, self._front.port

    def _console_tls(self) -> ssl.SSLContext | None:
        if self._certificate is None:
            return None
        context = self._certificate.server_context()
        context.set_alpn_protocols(["http/1.1"])
        return context

    def _work_dir(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> Path:
        assert self._runner is not None
        return self._runner.work_dir(execution_id)

    def _close_port(self) -> None:
        """Closes the public port and every connection through it (call with the serving lock).

        gRPC first, so its GOAWAY ("Cancelling all calls") still reaches clients through the front.
        """
        if self._server is not None:
            self._server.stop(grace=None).wait()
            self._server = None
        if self._front is not None:
            self._front.close()
            self._front = None

    def _serve_grpc(self, host: str, port: int) -> tuple[grpc.Server, int]:
        guard = [BearerAuthInterceptor(self.tokens)] if self.tokens is not None else []
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=_RPC_THREADS, thread_name_prefix="admin-rpc"),
            interceptors=[self._counter, *guard, self.faults],
            # grpc enables SO_REUSEPORT by default: a second admin would share the port silently.
            options=[("grpc.so_reuseport", 0)],
        )
        admin_pb2_grpc.add_AdminServiceServicer_to_server(self._service, server)
        signal_pb2_grpc.add_SignalServiceServicer_to_server(SignalService(self._signal_files), server)
        if self._token_endpoint is not None and self._auth is not None:
            auth_pb2_grpc.add_AuthMetadataServiceServicer_to_server(
                AuthMetadataService(self._token_endpoint, self._auth.client_id), server
            )
        try:
            if self._certificate is not None:
                credentials = grpc.ssl_server_credentials([(self._certificate.key_pem, self._certificate.cert_pem)])
                bound = server.add_secure_port(_host_port(host, port), credentials)
            else:
                bound = server.add_insecure_port(_host_port(host, port))
        except RuntimeError as error:  # newer grpc raises where older returned 0
            raise OSError(f"could not bind {_host_port(host, port)}: {error}") from None
        if bound == 0:
            raise OSError(f"could not bind {_host_port(host, port)}")
        server.start()
        return server, bound

    def stop(self) -> None:
        """Stops serving, then aborts what is still queued or running (no worker survives it)."""
        with self._serving_lock:
            if self._resume_timer is not None:
                self._resume_timer.cancel()
                self._resume_timer = None
            self._close_port()
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


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
