"""CreateExecution's request checks, in flyteadmin's order and with its messages.

Clients (and the provider's error mapping) key off these codes and texts, so they follow
flyteadmin's `validation/execution_validator.go` closely.
"""

from __future__ import annotations

import re
import secrets
import string

from flyteidl.admin import execution_pb2, launch_plan_pb2
from flyteidl.core import identifier_pb2, literals_pb2

from airflow_provider_flyte.local_admin.errors import invalid_argument
from airflow_provider_flyte.local_admin.literal_types import (
    describe,
    is_castable,
    literal_type_of,
)

MAX_NAME_LENGTH = 63
_NAME_PATTERN = re.compile(r"^[a-z][a-z\-0-9]*$")
_NAME_ALPHABET = string.ascii_lowercase + string.digits


def generated_name() -> str:
    """flyteadmin's shape for server-chosen names: a letter first, so it always passes the regex."""
    return "a" + "".join(secrets.choice(_NAME_ALPHABET) for _ in range(19))


def check_request_fields(request: execution_pb2.ExecutionCreateRequest) -> None:
    """Everything flyteadmin checks before looking anything up (steps 1-2 of its validation)."""
    if not request.project:
        raise invalid_argument("missing project")
    if not request.domain:
        raise invalid_argument("missing domain")
    if request.name:
        check_name(request.name.lower())


def check_name(name: str) -> None:
    if len(name) > MAX_NAME_LENGTH:
        raise invalid_argument(f"size of name exceeded length {MAX_NAME_LENGTH} : {name}")
    if not _NAME_PATTERN.match(name):
        raise invalid_argument(f"invalid name format: {name}, does not match regex '{_NAME_PATTERN.pattern}'")


def check_spec(request: execution_pb2.ExecutionCreateRequest) -> identifier_pb2.Identifier:
    """Returns the launch plan reference once it is complete enough to look up."""
    if not request.HasField("spec"):
        raise invalid_argument("missing spec")
    reference = request.spec.launch_plan
    for field in ("project", "domain", "name", "version"):
        if not getattr(reference, field):
            raise invalid_argument(f"missing {field}")
    if reference.resource_type not in (identifier_pb2.LAUNCH_PLAN, identifier_pb2.TASK):
        raise invalid_argument(
            f"Invalid reference entity resource type [{identifier_pb2.ResourceType.Name(reference.resource_type)}], "
            "only [LAUNCH_PLAN, TASK] allowed"
        )
    return reference


def merged_inputs(
    user_inputs: literals_pb2.LiteralMap, launch_plan: launch_plan_pb2.LaunchPlan
) -> literals_pb2.LiteralMap:
    """User inputs checked against the expected ones, defaults filled in, fixed inputs added."""
    expected = launch_plan.closure.expected_inputs.parameters
    merged: dict[str, literals_pb2.Literal] = {}
    for name, value in user_inputs.literals.items():
        if name not in expected:
            raise invalid_argument(f"invalid input {name}")
        merged[name] = value
    for name, parameter in expected.items():
        if name not in merged:
            if parameter.required:
                raise invalid_argument(f"expected_inputs {name} missing")
            merged[name] = parameter.default
            continue
        actual_type = literal_type_of(merged[name])
        if not is_castable(actual_type, parameter.var.type):
            raise invalid_argument(
                f"invalid {name} input wrong type. Expected {describe(parameter.var.type)}, "
                f"but got {describe(actual_type)}"
            )
    for name, value in launch_plan.spec.fixed_inputs.literals.items():
        if name in merged:
            raise invalid_argument(f"fixed_inputs {name} cannot be overridden")
        merged[name] = value
    return literals_pb2.LiteralMap(literals=merged)
