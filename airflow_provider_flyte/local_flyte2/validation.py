"""What CreateRun refuses before a run exists: a bad run name, and inputs that do not fit the task.

Run names follow the open-source run service (``runs/service/utils.go`` ``validateRunName``): at most 30
characters and a Kubernetes DNS-1035 label, with its messages. The open-source service checks inputs only
when the task runs; this service checks them up front (missing required input, unknown input, a literal
of the wrong type), as invalid_argument naming the input, so a caller learns at CreateRun what would
otherwise fail the run.
"""

from __future__ import annotations

import re
import secrets

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from flyteidl2.core import literals_pb2, types_pb2
from flyteidl2.task import common_pb2, task_definition_pb2

RUN_NAME_MAX_LENGTH = 30
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DNS1035_MESSAGE = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
# Kubernetes' rand.String alphabet, which the open-source service draws generated run names from.
_RUN_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

_PRIMITIVE_OF_SIMPLE = {
    types_pb2.INTEGER: "integer",
    types_pb2.FLOAT: "float_value",
    types_pb2.STRING: "string_value",
    types_pb2.BOOLEAN: "boolean",
    types_pb2.DATETIME: "datetime",
    types_pb2.DURATION: "duration",
}


def invalid(message: str) -> ConnectError:
    return ConnectError(Code.INVALID_ARGUMENT, message)


def check_run_name(name: str) -> None:
    """Refuse a run name the real service refuses, with its message."""
    if len(name) > RUN_NAME_MAX_LENGTH:
        raise invalid(f'invalid run name "{name}": must be no more than {RUN_NAME_MAX_LENGTH} characters')
    if not _DNS1035_LABEL.fullmatch(name):
        raise invalid(f'invalid run name "{name}": {_DNS1035_MESSAGE}')


def generate_run_name() -> str:
    """A name for a run created with only a project: ``r`` and 19 random characters, as the real service."""
    return "r" + "".join(secrets.choice(_RUN_NAME_ALPHABET) for _ in range(19))


def complete_inputs(inputs: common_pb2.Inputs, spec: task_definition_pb2.TaskSpec) -> common_pb2.Inputs:
    """The inputs with the task's defaults filled in, after checking each against the task's interface."""
    variables = {entry.key: entry.value for entry in spec.task_template.interface.inputs.variables}
    defaults = {p.name: p.parameter for p in spec.default_inputs}
    given: dict[str, literals_pb2.Literal] = {}
    for named in inputs.literals:
        if named.name not in variables:
            raise invalid(f'invalid input "{named.name}": the task has no such input (inputs: {", ".join(variables) or "none"})')
        problem = _mismatch(named.value, variables[named.name].type)
        if problem:
            raise invalid(f'invalid input "{named.name}": {problem}')
        given[named.name] = named.value
    completed = common_pb2.Inputs()
    completed.CopyFrom(inputs)
    for name in variables:
        if name in given:
            continue
        parameter = defaults.get(name)
        if parameter is not None and parameter.HasField("default"):
            completed.literals.add(name=name, value=parameter.default)
        elif parameter is None or parameter.required or not _accepts_none(variables[name].type):
            raise invalid(f'missing required input "{name}"')
    return completed


def _accepts_none(literal_type: types_pb2.LiteralType) -> bool:
    if literal_type.WhichOneof("type") == "simple":
        return literal_type.simple == types_pb2.NONE
    if literal_type.WhichOneof("type") == "union_type":
        return any(_accepts_none(v) for v in literal_type.union_type.variants)
    return False


def _describe(literal: literals_pb2.Literal) -> str:
    kind = literal.WhichOneof("value")
    if kind == "scalar":
        scalar = literal.scalar.WhichOneof("value")
        if scalar == "primitive":
            return f"a {literal.scalar.primitive.WhichOneof('value') or 'empty'} value"
        return f"a {scalar} scalar"
    return f"a {kind or 'empty'} literal"


def _mismatch(literal: literals_pb2.Literal, literal_type: types_pb2.LiteralType) -> str | None:
    """Why ``literal`` does not fit ``literal_type``, or None when it fits (or the type is not checked here).

    Simple types, collections, maps and unions are checked structurally; other types (blobs, structured
    datasets, enums, msgpack structs) are left to the task's own type engine.
    """
    if literal.WhichOneof("value") == "offloaded_metadata":
        return None
    kind = literal_type.WhichOneof("type")
    if kind == "simple":
        return _simple_mismatch(literal, literal_type.simple)
    if kind == "collection_type":
        if literal.WhichOneof("value") != "collection":
            return f"expected a collection, got {_describe(literal)}"
        for index, item in enumerate(literal.collection.literals):
            problem = _mismatch(item, literal_type.collection_type)
            if problem:
                return f"item {index}: {problem}"
        return None
    if kind == "map_value_type":
        if literal.WhichOneof("value") != "map":
            return f"expected a map, got {_describe(literal)}"
        for key, item in literal.map.literals.items():
            problem = _mismatch(item, literal_type.map_value_type)
            if problem:
                return f"key {key!r}: {problem}"
        return None
    if kind == "union_type":
        value = literal.scalar.union.value if literal.scalar.WhichOneof("value") == "union" else literal
        if any(_mismatch(value, variant) is None for variant in literal_type.union_type.variants):
            return None
        return f"{_describe(value)} fits none of the union's variants"
    return None


def _simple_mismatch(literal: literals_pb2.Literal, simple: int) -> str | None:
    name = types_pb2.SimpleType.Name(simple)
    if simple == types_pb2.NONE:
        if literal.scalar.WhichOneof("value") == "none_type":
            return None
        return f"expected NONE, got {_describe(literal)}"
    primitive = _PRIMITIVE_OF_SIMPLE.get(simple)
    if primitive is None:
        return None  # BINARY, STRUCT, ERROR: the SDK's own encodings, checked by its type engine
    if literal.scalar.WhichOneof("value") == "primitive" and literal.scalar.primitive.WhichOneof("value") == primitive:
        return None
    return f"expected {name}, got {_describe(literal)}"
