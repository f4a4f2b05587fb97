"""The ``flyte2-local-service`` console script: the local Flyte 2 run service in the foreground.

Its first line of output is exactly ``Flyte 2 run service listening on HOST:PORT`` (flushed, once it
serves), so a script or test that starts it with ``--port 0`` reads the port from it; it serves (in a
thread, as ``LocalFlyte2Service`` does) until SIGTERM or Ctrl-C, and stopping kills the task processes of
runs still executing.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from airflow_provider_flyte.local_flyte2.service import DEFAULT_DOMAIN, DEFAULT_PARALLELISM, DEFAULT_PROJECT


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="flyte2-local-service",
        description="A local Flyte 2 run service: deploys the TaskEnvironment tasks of the given files and runs them.",
    )
    parser.add_argument("--tasks", nargs="+", required=True, metavar="FILE_OR_DIR", help="Python files (or folders of them) defining flyte.TaskEnvironment tasks")
    parser.add_argument("--port", type=int, default=8090, help="port to listen on; 0 picks a free one (default 8090, the devbox's)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--project", default=DEFAULT_PROJECT, help=f"project the tasks are deployed to (default {DEFAULT_PROJECT})")
    parser.add_argument("--domain", default=DEFAULT_DOMAIN, help=f"domain the tasks are deployed to (default {DEFAULT_DOMAIN})")
    parser.add_argument("--state-dir", help="folder for runs' inputs, outputs and task logs (default: a temporary one)")
    parser.add_argument("--parallelism", type=int, default=DEFAULT_PARALLELISM, help=f"runs executing at once; the others wait QUEUED (default {DEFAULT_PARALLELISM})")
    parser.add_argument("--auth", choices=["none", "client-secret"], default="none", help="client-secret: every call needs a token from the service's OAuth2 token endpoint")
    parser.add_argument("--client-id", help="with --auth client-secret: the client's id")
    parser.add_argument("--client-secret", help="with --auth client-secret: the client's secret")
    parser.add_argument("--token-lifetime", type=float, default=3600.0, help="with --auth client-secret: seconds a token lasts (3600)")
    args = parser.parse_args(argv)
    if args.auth == "client-secret" and not (args.client_id and args.client_secret):
        parser.error("--auth client-secret needs --client-id and --client-secret")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    # SIGTERM and SIGINT are the normal stops, at any moment (while the tasks load too): they only set this.
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    from airflow_provider_flyte.local_flyte2.auth import ClientCredentials
    from airflow_provider_flyte.local_flyte2.service import LocalFlyte2Service

    credentials = None
    if args.auth == "client-secret":
        credentials = ClientCredentials(args.client_id, args.client_secret, args.token_lifetime)
    service = LocalFlyte2Service(
        tasks=args.tasks,
        port=args.port,
        host=args.host,
        project=args.project,
        domain=args.domain,
        state_dir=args.state_dir,
        auth=credentials,
        parallelism=args.parallelism,
    )
    try:
        service.start()
        print(f"Flyte 2 run service listening on {service.endpoint}", flush=True)
        if service.token_endpoint:
            print(f"Token endpoint: {service.token_endpoint}", flush=True)
        for task in service.tasks:
            tid = task.task_id
            print(f"Deployed task {tid.name} version {tid.version} to {tid.project}/{tid.domain}", flush=True)
        stopping.wait()
    finally:
        service.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
