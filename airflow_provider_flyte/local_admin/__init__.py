"""A local FlyteAdmin: flyteidl's gRPC `AdminService` on loopback, running executions for real.

It exists so tests, benchmarks and demos of the provider (and users testing their own DAGs)
can meet Flyte without a cluster, over the same gRPC API and with the same behaviour as a
FlyteAdmin 1.16: validation order, error codes and messages, phases and closure fields.

What it does: import flytekit workflow files (module names derived like pyflyte does), register
their tasks, workflows, default and explicit launch plans under one project/domain at a
content-derived version (`local-<sha256[:12]>`), and run each execution locally in its own
process group (forked from a pre-warmed zygote by default), with bounded parallelism.
A workflow runs node by node (its top-level nodes, in dependency order), so node executions,
their data, RecoverExecution (succeeded nodes are not rerun) and RelaunchExecution work;
a workflow with conditionals or array nodes runs as one node `n0`. Gate nodes (`approve`,
`wait_for_input`, `sleep`) run as nodes of their own, RUNNING while they wait, and
flyteadmin's SignalService (GetOrCreateSignal, ListSignals, SetSignal) answers for them, so
FlyteRemote's `approve`, `reject` and `set_input` work (`gates`, `signals`, `signal_service`). A single task
(CreateExecution with a TASK reference) runs through an implicit `.flytegen.<task>` launch plan.
Inputs and outputs of 2 MB or more are not inlined by GetExecutionData: `outputs.url` points at
a `file://` LiteralMap, as a FlyteAdmin points at blob storage.

ListExecutions returns executions as flyteadmin's list does: `closure.error.message` trimmed to
its first 100 bytes (GetExecution has it whole; a traceback's cause is on its last line), and
the deprecated `spec.inputs` / `closure.computed_inputs` cleared. Filters on `execution_name`
(`eq`, `value_in`) are looked up by name, so listing a few hundred runs among thousands is cheap.

The console: the admin's port also answers plain HTTP/1.1 (a front peeks at each connection's
first bytes; gRPC is passed through to the gRPC server, byte for byte). `/console` lists the
executions, newest first; `/console/projects/{p}/domains/{d}/executions/{name}`, the URL the
provider's console link uses (`http` when plaintext, `https` with TLS), shows an execution's
phase, timings, inputs, outputs, whole error, abort cause and principal, and node executions.
Read-only, no login, no JavaScript, everything HTML-escaped. `console=False` (`--no-console`)
binds gRPC on the port itself (that front costs about 0.1 ms per call).

Holding executions: `parallelism=0` (`--parallelism 0`) runs nothing. Every execution stays
QUEUED, costing no process (not even the zygote) and next to no memory, until TerminateExecution
(ABORTING with abort_metadata {cause, principal}, then ABORTED at once) or the admin stops
(ABORTED, cause "flyte-local-admin stopped"). That is the way to hold thousands of executions
that never end, e.g. for benchmarks of pollers.

From the command line::

    flyte-local-admin --port 30080 --workflows tests/workflows/simple.py [--activate-launchplans]
        [--host 0.0.0.0] [--public-host NAME]  # bind every interface; the name clients use (127.0.0.1)
        [--conn-id flyte_conn] [--no-console]
        [--state-dir DIR]                    # SQLite: registrations and executions survive restarts
        [--tls]                              # self-signed; prints "CA certificate: /path"
        [--parallelism N]                    # executions running at once (4); 0 holds them all QUEUED
        [--auth client-secret --client-id ID --client-secret SECRET [--token-lifetime 3600]
            [--token-latency SECONDS]]       # a slow IdP: one token request at a time, each SECONDS
        [--fail RPC:N[:CODE]] [--latency RPC:SECONDS] [--lose-response RPC[:N]] [--outage AFTER:SECONDS]
    # prints "FlyteAdmin listening on 127.0.0.1:30080" once it serves, first (then the CA file and
    # the token endpoint when enabled, "Console: http://127.0.0.1:30080/console", and the Airflow
    # connection for this mode: an `export AIRFLOW_CONN_FLYTE_CONN='{...}'` line and an
    # `airflow connections add flyte_conn ...` line); stop with Ctrl-C / SIGTERM

From tests::

    from airflow_provider_flyte.local_admin import ClientSecretAuth, LocalFlyteAdmin

    with LocalFlyteAdmin(workflows=["tests/workflows/simple.py"], port=0) as admin:
        channel = grpc.insecure_channel(admin.endpoint)
        ...  # AdminServiceStub(channel).CreateExecution(...)
        admin.wait_for_phase(name, {WorkflowExecution.SUCCEEDED})
        admin.get_execution(name); admin.executions(); admin.phase_history(name)
        admin.rpc_counts["CreateExecution"]            # RPCs received, per method, faulted ones included
        admin.execution_url(name); admin.console_url    # console pages (the provider's link, the index)

        # The Airflow connection that reaches this admin, in its mode (what the CLI prints):
        admin.airflow_connection()                      # {"conn_type": "flyte", "host", "port", "extra": {...}}
        admin.airflow_connection_env("flyte_conn")      # {"AIRFLOW_CONN_FLYTE_CONN": "<that as JSON>"}
        admin.airflow_connection_text("flyte_conn")     # the printed lines: export ... / airflow connections add ...

        # Fault injection (per RPC method name; "*" means every method), consumed in order:
        admin.faults.fail_next("GetExecution", 2, grpc.StatusCode.UNAVAILABLE)  # next 2 calls fail
        admin.faults.add_latency("GetExecution", 0.5)  # every call waits 0.5 s (0 removes it)
        admin.faults.lose_next_response("CreateExecution")  # applied, but answered UNAVAILABLE
        admin.faults.outage(5)          # port closed for 5 s, executions keep running, same port after
        admin.pause_serving(5); admin.resume_serving(); admin.serving   # the same, by hand
        admin.faults.clear()            # drops queued faults and latency, ends an outage now

    # Auth and TLS: flytekit's PlatformConfig(auth_mode="ClientSecret", ...) works unchanged.
    auth = ClientSecretAuth("client-id", "secret", token_lifetime=3600, token_latency=0.0)
    with LocalFlyteAdmin(workflows=[...], auth=auth, tls=True, state_dir="/tmp/admin",
                         host="127.0.0.1", public_host=None, console=True) as admin:
        admin.ca_cert_path, admin.token_endpoint
        admin.tokens.requests           # POSTs to the token endpoint so far, answered or refused
        admin.tokens.issued             # tokens issued so far
        admin.tokens.expire_all()       # every issued token is now expired
        # The identity provider failing (answered at once, before the credentials are checked):
        admin.tokens.fail_next(2)              # the next 2 token requests get HTTP 503
        admin.tokens.fail_next(1, status=429)  # ... or any 4xx/5xx, e.g. 429 Too Many Requests
        admin.tokens.outage(10)                # every token request gets 503 for 10 s (0 ends it)
    # token_latency=0.2: a slow, rate-limited IdP (Okta, Entra): token requests are answered
    # one at a time, each taking 0.2 s, so N concurrent callers wait up to N * 0.2 s.

    # Executions that wait forever and cost nothing (see "Holding executions" above):
    with LocalFlyteAdmin(workflows=[...], parallelism=0) as admin: ...

Importing this package loads grpc and flytekit; `airflow_provider_flyte` itself never imports it.
"""

from __future__ import annotations

from airflow_provider_flyte.local_admin.auth import ClientSecretAuth
from airflow_provider_flyte.local_admin.server import LocalFlyteAdmin

__all__ = ["ClientSecretAuth", "LocalFlyteAdmin"]
