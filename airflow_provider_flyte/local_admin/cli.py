"""`flyte-local-admin`: serve registered workflow files until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence

from airflow_provider_flyte.local_admin.runner import DEFAULT_PARALLELISM
from airflow_provider_flyte.local_admin.server import LocalFlyteAdmin


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="flyte-local-admin", description="A local FlyteAdmin (gRPC AdminService) that runs executions locally."
    )
    parser.add_argument("--port", type=int, default=30080, help="port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--workflows", nargs="+", default=[], metavar="FILE.py", help="files to register")
    parser.add_argument("--project", default="flytesnacks")
    parser.add_argument("--domain", default="development")
    parser.add_argument(
        "--activate-launchplans", action="store_true", help="register launch plans ACTIVE (default INACTIVE)"
    )
    parser.add_argument("--parallelism", type=int, default=DEFAULT_PARALLELISM, help="concurrent executions")
    parser.add_argument(
        "--worker-mode",
        choices=["zygote", "subprocess"],
        default="zygote",
        help="fork executions from a pre-warmed process, or start a fresh interpreter for each",
    )
    return parser.parse_args(argv)


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
    )
    with admin:
        print(f"FlyteAdmin listening on {admin.endpoint}", flush=True)
        while not stop.wait(1.0):
            pass


if __name__ == "__main__":
    main()
