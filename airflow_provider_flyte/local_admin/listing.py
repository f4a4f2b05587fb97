"""What flyteadmin does to each execution on its way out of ListExecutions (not GetExecution).

- `closure.error.message` is trimmed to its first 100 bytes (`ListExecutionTransformerOptions
  {TrimErrorMessage: true}`, `trimmedErrMessageLen = 100` in
  `flyteadmin/pkg/repositories/transformers/execution.go`), dropping a multi-byte character cut
  in half (`strings.ToValidUTF8(msg[:100], "")`). A user error's cause is on the traceback's
  last line, so a caller that needs it must GetExecution.
- The deprecated `spec.inputs` and `closure.computed_inputs` are cleared
  (`ExecutionManager.ListExecutions`, "Clear deprecated fields during migration phase").
"""

from __future__ import annotations

from flyteidl.admin import execution_pb2

from airflow_provider_flyte.local_admin.protos import copy_message

TRIMMED_ERROR_MESSAGE_BYTES = 100


def trim_error_message(message: str) -> str:
    """flyteadmin's `TrimErrorMessage`: at most 100 bytes of UTF-8, never half a character."""
    encoded = message.encode()
    if len(encoded) <= TRIMMED_ERROR_MESSAGE_BYTES:
        return message
    return encoded[:TRIMMED_ERROR_MESSAGE_BYTES].decode(errors="ignore")


def listed_execution(stored: execution_pb2.Execution) -> execution_pb2.Execution:
    """A copy of a stored execution as ListExecutions returns it; the stored one is left alone."""
    listed = copy_message(stored)
    listed.spec.ClearField("inputs")
    listed.closure.ClearField("computed_inputs")
    if listed.closure.HasField("error") and listed.closure.error.message:
        listed.closure.error.message = trim_error_message(listed.closure.error.message)
    return listed
