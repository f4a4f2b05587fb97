"""Flyte 2 from Airflow: run deployed Flyte 2 tasks and wait for their runs (issue 13).

Flyte 2 speaks Connect (HTTP) to RunService, TaskService and DataProxyService instead of gRPC to
FlyteAdmin, and names runs and actions instead of executions and nodes, so it has its own hook,
operator, sensor, trigger and link here, and its own ``flyte2`` connection type. What does not
depend on the protocol is shared with Flyte 1: deterministic names (``naming``), the adaptive
poll policy (``polling``), the labels that tie a run to its task instance (``labels``), the wait's
deadline and progress lines and the exceptions that end it (``waiting``, ``exceptions``).

Every module here is cheap to import: flyteidl2, connectrpc and the Flyte 2 SDK load on first
use, inside methods. docs/flyte2.md is the user guide and the record of decisions.
"""
