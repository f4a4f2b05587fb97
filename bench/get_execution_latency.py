"""GetExecution latency under 200 concurrent clients, over loopback gRPC.

Starts `flyte-local-admin` as its own process (so clients and server do not share a GIL),
runs one execution, then 200 asyncio clients, each on its own channel, call GetExecution in
a loop for a fixed number of calls. Prints p50/p90/p99/max latency and the total call rate.
Not part of the test suite.

    .venv/bin/python bench/get_execution_latency.py [--clients 200] [--calls 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import grpc
from flyteidl.admin import execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service.admin_pb2_grpc import AdminServiceStub

REPO = Path(__file__).resolve().parents[1]
SIMPLE = REPO / "tests" / "workflows" / "simple.py"
EXECUTION = identifier_pb2.WorkflowExecutionIdentifier(project="flytesnacks", domain="development", name="latency")


async def client(endpoint: str, calls: int, latencies: list[float]) -> None:
    async with grpc.aio.insecure_channel(endpoint) as channel:
        stub = AdminServiceStub(channel)
        request = execution_pb2.WorkflowExecutionGetRequest(id=EXECUTION)
        await stub.GetExecution(request, timeout=60)  # connect before measuring
        for _ in range(calls):
            started = time.perf_counter()
            await stub.GetExecution(request, timeout=60)
            latencies.append(time.perf_counter() - started)


async def measure(endpoint: str, clients: int, calls: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(client(endpoint, calls, latencies) for _ in range(clients)))
    return latencies, time.perf_counter() - started


def start_execution(endpoint: str) -> None:
    from airflow_provider_flyte.local_admin.modules import content_version

    launch_plan = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN, project="flytesnacks", domain="development",
        name="simple.double_wf", version=content_version(SIMPLE),
    )
    with grpc.insecure_channel(endpoint) as channel:
        AdminServiceStub(channel).CreateExecution(
            execution_pb2.ExecutionCreateRequest(
                project="flytesnacks", domain="development", name=EXECUTION.name,
                spec=execution_pb2.ExecutionSpec(launch_plan=launch_plan),
            ),
            timeout=30,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--calls", type=int, default=50, help="GetExecution calls per client")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    server = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_flyte.local_admin.cli", "--port", "0", "--workflows", str(SIMPLE)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        endpoint = server.stdout.readline().strip().rsplit(" ", 1)[-1]
        start_execution(endpoint)
        latencies, elapsed = asyncio.run(measure(endpoint, args.clients, args.calls))
    finally:
        server.terminate()
        server.wait(timeout=30)
    ms = sorted(value * 1000 for value in latencies)
    quantiles = statistics.quantiles(ms, n=100)
    print(f"{len(ms)} GetExecution calls from {args.clients} concurrent clients in {elapsed:.2f} s "
          f"({len(ms) / elapsed:.0f} calls/s)")
    print(f"latency ms: p50 {quantiles[49]:.1f}  p90 {quantiles[89]:.1f}  p99 {quantiles[98]:.1f}  max {ms[-1]:.1f}")


if __name__ == "__main__":
    main()
