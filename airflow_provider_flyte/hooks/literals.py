"""Python values in, JSON-friendly values out: the typed boundary between Airflow and Flyte.

Inputs are converted with flytekit's TypeEngine against the entity's own declared interface,
so a wrong value fails here, before CreateExecution, naming the input, the Flyte type expected and
the value given. Outputs are read straight from the Literal protobufs into plain JSON values (no
Python types needed), which is what XCom can carry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flyteidl.core import literals_pb2, types_pb2

from airflow_provider_flyte.exceptions import FlyteInputError
from airflow_provider_flyte.hooks.admin_messages import LaunchTarget
from airflow_provider_flyte.literal_json import LiteralReader


def describe_type(lt: types_pb2.LiteralType) -> str:
    """A short human name for a Flyte type, used in error messages."""
    which = lt.WhichOneof("type")
    if which == "simple":
        if lt.simple == types_pb2.STRUCT and lt.metadata.fields:
            return "struct (dataclass / dict)"
        return types_pb2.SimpleType.Name(lt.simple).lower()
    if which == "collection_type":
        return f"list[{describe_type(lt.collection_type)}]"
    if which == "map_value_type":
        return f"dict[str, {describe_type(lt.map_value_type)}]"
    if which == "blob":
        return "directory" if lt.blob.dimensionality == types_pb2.BlobType.MULTIPART else "file"
    if which == "enum_type":
        return f"enum{list(lt.enum_type.values)}"
    if which == "union_type":
        return "union[" + ", ".join(describe_type(v) for v in lt.union_type.variants) + "]"
    if which == "structured_dataset_type":
        return "structured dataset"
    if which == "schema":
        return "schema"
    return which or "unknown"


def to_literal(value: Any, lt_pb: types_pb2.LiteralType, what: str) -> literals_pb2.Literal:
    """``value`` as a Literal of type ``lt_pb``, or FlyteInputError saying ``what`` expected what."""
    from flytekit import FlyteContextManager
    from flytekit.core.type_engine import TypeEngine
    from flytekit.models.types import LiteralType

    lt = LiteralType.from_flyte_idl(lt_pb)
    try:
        if lt_pb.WhichOneof("type") == "simple" and lt_pb.simple == types_pb2.STRUCT and isinstance(value, Mapping):
            # A dataclass or pydantic input given as a dict: msgpack-encode it as flytekit does.
            python_type: Any = dict
        else:
            python_type = TypeEngine.guess_python_type(lt)
        _check_exact_primitive(value, lt_pb)
        if lt_pb.WhichOneof("type") == "simple" and lt_pb.simple == types_pb2.FLOAT and isinstance(value, int):
            value = float(value)  # JSON (params, conf, XCom) cannot tell 30 from 30.0
        literal = TypeEngine.to_literal(FlyteContextManager.current_context(), value, python_type, lt)
    except Exception as err:  # TypeEngine raises many types; all mean "this value does not fit".
        raise FlyteInputError(
            f"{what} expects Flyte type {describe_type(lt_pb)}, got {value!r} ({type(value).__name__}): {err}"
        ) from None
    return literal.to_flyte_idl()


_PRIMITIVE_PYTHON_TYPES: dict[int, tuple[type, ...]] = {
    types_pb2.INTEGER: (int,),
    types_pb2.FLOAT: (int, float),
    types_pb2.STRING: (str,),
    types_pb2.BOOLEAN: (bool,),
    types_pb2.DATETIME: (dt.datetime,),
    types_pb2.DURATION: (dt.timedelta,),
}


def _check_exact_primitive(value: Any, lt: types_pb2.LiteralType) -> None:
    """TypeEngine coerces some mismatches (True as an integer, 3 as a string); Flyte would not."""
    if lt.WhichOneof("type") != "simple" or lt.simple not in _PRIMITIVE_PYTHON_TYPES:
        return
    accepted = _PRIMITIVE_PYTHON_TYPES[lt.simple]
    if isinstance(value, bool) and bool not in accepted:
        raise TypeError("a boolean is not accepted here")
    if not isinstance(value, accepted):
        raise TypeError(f"expected {' or '.join(t.__name__ for t in accepted)}")


def build_inputs(target: LaunchTarget, inputs: Mapping[str, Any]) -> literals_pb2.LiteralMap:
    """Check ``inputs`` against ``target``'s interface and convert them, refusing before launch."""
    expected = target.expected_inputs.parameters
    fixed = target.fixed_inputs.literals
    for name in inputs:
        if name in fixed:
            raise FlyteInputError(
                f"Input {name!r} of {target.describe()} is a fixed input of the launch plan and cannot be "
                f"overridden, got {inputs[name]!r}"
            )
        if name not in expected:
            raise FlyteInputError(
                f"{target.describe()} has no input {name!r} (got {inputs[name]!r}); "
                f"expected inputs: {sorted(expected) or 'none'}"
            )
    missing = [n for n, p in expected.items() if p.required and n not in inputs]
    if missing:
        wanted = ", ".join(f"{n!r} ({describe_type(expected[n].var.type)})" for n in sorted(missing))
        raise FlyteInputError(f"{target.describe()} requires input(s) {wanted}, which were not given")
    literals = {
        name: to_literal(value, expected[name].var.type, f"Input {name!r} of {target.describe()}")
        for name, value in inputs.items()
    }
    return literals_pb2.LiteralMap(literals=literals)


def literal_to_json(literal: literals_pb2.Literal) -> Any:
    return _READER.literal(literal)


def _read_blob(url: str, message: Any) -> Any:
    """Outputs Flyte did not inline (a whole map over FlyteAdmin's 2 MB limit, or one offloaded
    literal) live in a blob: read it with fsspec, installed by flytekit with its storage backends."""
    import fsspec

    with fsspec.open(url, "rb") as blob:
        return message.FromString(blob.read())


_READER = LiteralReader(read_offloaded=lambda uri: _read_blob(uri, literals_pb2.Literal))


def read_offloaded_literal_map(url: str) -> literals_pb2.LiteralMap:
    return _read_blob(url, literals_pb2.LiteralMap)


def resolve_data(data: Any) -> tuple[literals_pb2.LiteralMap, literals_pb2.LiteralMap]:
    """Inputs and outputs from a GetExecutionData answer; large ones FlyteAdmin offloads come back
    as a blob reference, which is read (blocking I/O: off the event loop in the triggerer)."""
    inputs, outputs = data.full_inputs, data.full_outputs
    if not inputs.literals and data.inputs.url:
        inputs = read_offloaded_literal_map(data.inputs.url)
    if not outputs.literals and data.outputs.url:
        outputs = read_offloaded_literal_map(data.outputs.url)
    return inputs, outputs


def literal_map_to_json(literal_map: literals_pb2.LiteralMap) -> dict[str, Any]:
    return {name: literal_to_json(literal) for name, literal in literal_map.literals.items()}
