"""A local Flyte 2 run service: the Flyte 2 control plane's run API on loopback, running tasks for real.

It exists so tests of the provider's Flyte 2 support (and users trying their own Flyte 2 tasks) can meet
Flyte 2 without a cluster, over the API the ``flyte`` SDK and our hook use: flyteidl2's RunService,
TaskService, DataProxyService, ClusterService and AuthMetadataService on one plaintext port, Connect over
HTTP/1.1 and gRPC over h2c.

What it does: import the user's Python files, deploy every ``flyte.TaskEnvironment`` task in them under
one project/domain (name ``<env>.<function>``, version a hash of the file, the spec the SDK itself
builds), and run each run's root action ``a0`` in a process of its own: QUEUED, RUNNING, then SUCCEEDED,
FAILED (error_info USER, the exception's last line; code its class name), TIMED_OUT (the task's declared
timeout) or ABORTED (AbortRun kills the process group; abort_info keeps reason and principal). CreateRun
refuses what the real service refuses (run name over 30 characters or not a DNS-1035 label:
invalid_argument; unknown project or task version: not_found; a run name taken: already_exists) and also
inputs that do not fit the task (missing, unknown, wrong type: invalid_argument naming the input).

From the command line::

    flyte2-local-service --port 0 --tasks tests/local_flyte2/tasks [--project flytesnacks]
        [--domain development] [--host 127.0.0.1] [--state-dir DIR] [--parallelism 8]
        [--auth client-secret --client-id ID --client-secret SECRET [--token-lifetime 3600]]
    # prints "Flyte 2 run service listening on 127.0.0.1:PORT" first, once it serves (then
    # "Token endpoint: URL" with auth), then one line per deployed task; stop with Ctrl-C / SIGTERM

From tests::

    from airflow_provider_flyte.local_flyte2 import LocalFlyte2Service

    with LocalFlyte2Service(tasks=["tests/local_flyte2/tasks"], port=0, parallelism=8) as service:
        flyte.init(endpoint=service.endpoint, insecure=True, project=service.project, domain=service.domain)
        service.url                         # http://127.0.0.1:PORT, for a Connect client
        service.tasks; service.task("arithmetic.add").task_id.version
        service.runs(); service.run(name); service.wait_for_phase(name, {"RUNNING"})
        service.faults.fail_next(2, Code.UNAVAILABLE, method="GetRunDetails")  # next 2 calls fail
        service.faults.set_latency(0.5, method="CreateRun")                     # every call waits first
        service.faults.clear()

    # Client-credentials auth: every call but AuthMetadataService's needs a token from the token endpoint.
    from airflow_provider_flyte.local_flyte2.auth import ClientCredentials

    with LocalFlyte2Service(tasks=[...], auth=ClientCredentials("id", "secret", token_lifetime=3600)) as service:
        service.token_endpoint; service.tokens.issued; service.tokens.expire_all()

``LocalFlyte2Service`` loads the ``flyte`` SDK (the ``flyte2`` extra) and the server on first use, not
with the package; ``airflow_provider_flyte`` itself never imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_flyte.local_flyte2.service import LocalFlyte2Service

__all__ = ["LocalFlyte2Service"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, not with the package: each run's task process imports this package (for its
    # runner) and needs none of the server.
    if name == "LocalFlyte2Service":
        from airflow_provider_flyte.local_flyte2.service import LocalFlyte2Service

        return LocalFlyte2Service
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
