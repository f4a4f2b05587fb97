"""How long the local admin takes to run 500 executions of a trivial task to SUCCEEDED.

Starts `LocalFlyteAdmin` with its defaults (zygote workers, parallelism 4), submits every
execution of the single task `simple.double` over gRPC at once, and waits until all have
SUCCEEDED. Prints the wall time from the first CreateExecution to the last SUCCEEDED, and
the throughput. Not part of the test suite.

    .venv/bin/python bench/executions_throughput.py [--executions 500] [--parallelism 4]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import grpc
from flyteidl.admin import execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2
from flyteidl.service.admin_pb2_grpc import AdminServiceStub

from airflow_provider_flyte.local_admin import LocalFlyteAdmin
from airflow_provider_flyte.local_admin.modules import content_version
from airflow_provider_flyte.local_admin.runner import DEFAULT_PARALLELISM

SIMPLE = REPO / "tests" / "workflows" / "simple.py"
SUCCEEDED = core_execution_pb2.WorkflowExecution.SUCCEEDED
TERMINAL = {SUCCEEDED, *(getattr(core_execution_pb2.WorkflowExecution, p) for p in ("FAILED", "ABORTED", "TIMED_OUT"))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=500)
    parser.add_argument("--parallelism", type=int, default=DEFAULT_PARALLELISM)
    args = parser.parse_args()
    task = identifier_pb2.Identifier(
        resource_type=identifier_pb2.TASK, project="flytesnacks", domain="development",
        name="simple.double", version=content_version(SIMPLE),
    )
    x = literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=2)))
    with LocalFlyteAdmin(workflows=[SIMPLE], port=0, parallelism=args.parallelism) as admin:
        with grpc.insecure_channel(admin.endpoint) as channel:
            stub = AdminServiceStub(channel)
            names = [f"bench-{i}" for i in range(args.executions)]
            started = time.perf_counter()
            for name in names:
                stub.CreateExecution(
                    execution_pb2.ExecutionCreateRequest(
                        project="flytesnacks", domain="development", name=name,
                        spec=execution_pb2.ExecutionSpec(launch_plan=task), inputs={"literals": {"x": x}},
                    )
                )
            submitted = time.perf_counter() - started
            phases = [admin.wait_for_phase(name, TERMINAL, timeout=3600).closure.phase for name in names]
            elapsed = time.perf_counter() - started
    failed = sum(phase != SUCCEEDED for phase in phases)
    print(f"executions: {args.executions} (failed: {failed}), parallelism: {args.parallelism}")
    print(f"all CreateExecution calls answered after {submitted:.2f} s")
    print(f"all SUCCEEDED after {elapsed:.2f} s: {args.executions / elapsed:.1f} executions/s, "
          f"{elapsed / args.executions * 1000:.0f} ms per execution per run, "
          f"{elapsed / args.executions * args.parallelism * 1000:.0f} ms per execution per slot")


if __name__ == "__main__":
    main()
