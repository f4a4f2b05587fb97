"""`flyte-local-admin`: serve registered workflow files until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence

import grpc

from airflow_provider_flyte.local_admin.auth import ClientSecretAuth
from airflow_provider_flyte.local_admin.connection import DEFAULT_CONN_ID
from airflow_provider_flyte.local_admin.faults import FaultInjector
from airflow_provider_flyte.local_admin.runner import DEFAULT_PARALLELISM
from airflow_provider_flyte.local_admin.server import LocalFlyteAdmin


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="flyte-local-admin", description="A local FlyteAdmin (gRPC AdminService) that runs executions locally."
    )
    parser.add_argument("--port", type=int, default=30080, help="port to listen on; 0 picks a free one")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; 0.0.0.0 for every interface, e.g. in a container)",
    )
    parser.add_argument(
        "--public-host",
        metavar="HOST",
        help="the name clients reach the admin by, for the printed connection, the token endpoint's URL and "
        "the TLS certificate (default: --host, or 127.0.0.1 when --host is 0.0.0.0), e.g. a compose service name",
    )
    parser.add_argument(
        "--conn-id", default=DEFAULT_CONN_ID, help="the Airflow connection id in the printed connection (flyte_conn)"
    )
    parser.add_argument(
        "--no-console",
        dest="console",
        action="store_false",
        help="serve gRPC only (by default the port also answers HTTP/1.1 with a read-only console at /console)",
    )
    parser.add_argument(
        "--workflows", nargs="+", default=[], metavar="PATH",
        help="files to register; a folder gives its Python files that use flytekit (e.g. a DAG folder)",
    )
    parser.add_argument("--project", default="flytesnacks")
    parser.add_argument("--domain", default="development")
    parser.add_argument(
        "--activate-launchplans", action="store_true", help="register launch plans ACTIVE (default INACTIVE)"
    )
    parser.add_argument(
        "--parallelism",
        type=_at_least_zero(int),
        default=DEFAULT_PARALLELISM,
        metavar="N",
        help="executions running at once; 0 holds every execution QUEUED (no process), until terminated",
    )
    parser.add_argument(
        "--worker-mode",
        choices=["zygote", "subprocess"],
        default="zygote",
        help="fork executions from a pre-warmed process, or start a fresh interpreter for each",
    )
    parser.add_argument(
        "--state-dir", metavar="DIR", help="keep registrations and executions in DIR (SQLite) across restarts"
    )
    security = parser.add_argument_group("auth and TLS")
    security.add_argument(
        "--auth", choices=["none", "client-secret"], default="none", help="require OAuth2 client-credentials tokens"
    )
    security.add_argument("--client-id", help="the one client allowed to get tokens (with --auth client-secret)")
    security.add_argument("--client-secret", help="that client's secret")
    security.add_argument(
        "--token-lifetime", type=float, default=3600.0, metavar="SECONDS", help="how long issued tokens stay valid"
    )
    security.add_argument(
        "--token-latency",
        type=_at_least_zero(float),
        default=0.0,
        metavar="SECONDS",
        help="a slow identity provider: the token endpoint answers one request at a time, each taking SECONDS",
    )
    security.add_argument("--tls", action="store_true", help="serve TLS with a generated self-signed certificate")
    faults = parser.add_argument_group("fault injection")
    faults.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="RPC:N[:CODE]",
        help="answer the first N calls of RPC with CODE (default UNAVAILABLE), e.g. GetExecution:2:INTERNAL",
    )
    faults.add_argument(
        "--latency", action="append", default=[], metavar="RPC:SECONDS", help="delay every call of RPC ('*': all)"
    )
    faults.add_argument(
        "--lose-response",
        action="append",
        default=[],
        metavar="RPC[:N]",
        help="apply the first N calls of RPC but answer UNAVAILABLE",
    )
    faults.add_argument(
        "--outage",
        action="append",
        default=[],
        metavar="AFTER:SECONDS",
        help="AFTER seconds from start, close the port for SECONDS, then serve again on it",
    )
    args = parser.parse_args(argv)
    if args.auth == "client-secret" and not (args.client_id and args.client_secret):
        parser.error("--auth client-secret needs --client-id and --client-secret")
    if args.token_latency and args.auth != "client-secret":
        parser.error("--token-latency needs --auth client-secret")
    return args


def _at_least_zero(number: type[int] | type[float]):
    def parse(text: str) -> int | float:
        value = number(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
        return value

    parse.__name__ = number.__name__  # argparse names the type in its "invalid int value" message
    return parse


def install_faults(faults: FaultInjector, args: argparse.Namespace) -> list[threading.Timer]:
    """Queues the faults named on the command line; returns the timers of scheduled outages."""
    for spec in args.fail:
        method, count, *code = spec.split(":")
        faults.fail_next(method, int(count), grpc.StatusCode[code[0]] if code else grpc.StatusCode.UNAVAILABLE)
    for spec in args.latency:
        method, seconds = spec.split(":")
        faults.add_latency(method, float(seconds))
    for spec in args.lose_response:
        method, *count = spec.split(":")
        faults.lose_next_response(method, int(count[0]) if count else 1)
    timers = []
    for spec in args.outage:
        after, seconds = spec.split(":")
        timer = threading.Timer(float(after), faults.outage, args=(float(seconds),))
        timer.daemon = True
        timers.append(timer)
    return timers


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    admin = LocalFlyteAdmin(
        workflows=args.workflows,
        project=args.project,
        domain=args.domain,
        port=args.port,
        activate_launch_plans=args.activate_launchplans,
        parallelism=args.parallelism,
        worker_mode=args.worker_mode,
        auth=ClientSecretAuth(args.client_id, args.client_secret, args.token_lifetime, args.token_latency)
        if args.auth == "client-secret"
        else None,
        tls=args.tls,
        state_dir=args.state_dir,
        host=args.host,
        public_host=args.public_host,
        console=args.console,
    )
    with admin:
        outages = install_faults(admin.faults, args)
        print(f"FlyteAdmin listening on {admin.listen_address}", flush=True)  # first: tools parse it
        if admin.ca_cert_path:
            print(f"CA certificate: {admin.ca_cert_path}", flush=True)
        if admin.token_endpoint:
            print(f"Token endpoint: {admin.token_endpoint}", flush=True)
        if admin.console_url:
            print(f"Console: {admin.console_url}", flush=True)
        print(admin.airflow_connection_text(args.conn_id), flush=True)
        for timer in outages:
            timer.start()
        while not stop.wait(1.0):
            pass
        for timer in outages:
            timer.cancel()


if __name__ == "__main__":
    main()
