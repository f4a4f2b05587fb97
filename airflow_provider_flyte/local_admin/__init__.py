"""A local FlyteAdmin: flyteidl's gRPC `AdminService` on loopback, running executions for real.

It exists so tests, benchmarks and demos of the provider (and users testing their own DAGs)
can meet Flyte without a cluster, over the same gRPC API and with the same behaviour as a
FlyteAdmin 1.16: validation order, error codes and messages, phases and closure fields.

What it does: import flytekit workflow files (module names derived like pyflyte does), register
their tasks, workflows, default and explicit launch plans under one project/domain at a
content-derived version (`local-<sha256[:12]>`), and run each execution's workflow locally
in its own process group (forked from a pre-warmed zygote by default), with bounded parallelism.

From the command line::

    flyte-local-admin --port 30080 --workflows tests/workflows/simple.py [--activate-launchplans]
    # prints "FlyteAdmin listening on 127.0.0.1:30080" once it serves; stop with Ctrl-C / SIGTERM

From tests::

    from airflow_provider_flyte.local_admin import LocalFlyteAdmin

    with LocalFlyteAdmin(workflows=["tests/workflows/simple.py"], port=0) as admin:
        channel = grpc.insecure_channel(admin.endpoint)
        ...  # AdminServiceStub(channel).CreateExecution(...)
        admin.wait_for_phase(name, {WorkflowExecution.SUCCEEDED})
        admin.rpc_counts["CreateExecution"]

Importing this package loads grpc and flytekit; `airflow_provider_flyte` itself never imports it.
"""

from __future__ import annotations

from airflow_provider_flyte.local_admin.server import LocalFlyteAdmin

__all__ = ["LocalFlyteAdmin"]
