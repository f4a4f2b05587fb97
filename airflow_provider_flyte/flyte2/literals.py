"""Python values in, JSON values out, in flyteidl2's literal model (``flyteidl2.core``).

Inputs are checked against the task's own interface and converted before anything is created,
so a wrong value fails naming the input, the Flyte type and the value. The conversion is plain
protobuf, the way the Flyte 2 SDK encodes each type (no SDK type engine, which needs the Python
types the task was written with): primitives, lists, dicts (``map``), optionals and unions,
enums (their value), structs (dataclasses, pydantic models, dicts: msgpack, as the SDK writes
them), and files, directories and data frames by URI. Outputs become JSON values for XCom.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_flyte.exceptions import FlyteInputError
from airflow_provider_flyte.literal_json import LiteralReader, unpack_msgpack


def describe_type(lt: Any) -> str:
    """A short human name for a Flyte type, used in error messages."""
    from flyteidl2.core import types_pb2

    which = lt.WhichOneof("type")
    if which == "simple":
        if lt.simple == types_pb2.STRUCT:
            return "struct (dataclass / dict)"
        return str(types_pb2.SimpleType.Name(lt.simple)).lower()
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
        return "data frame (structured dataset)"
    return which or "unknown"


class _Mismatch(Exception):
    """The value does not fit the type; the message says why (the caller adds which input)."""


def to_literal(value: Any, lt: Any, what: str) -> Any:
    """``value`` as a flyteidl2 Literal of type ``lt``, or FlyteInputError naming ``what``."""
    try:
        return _convert(value, lt)
    except _Mismatch as err:
        reason = f": {err}" if str(err) else ""
        raise FlyteInputError(
            f"{what} expects Flyte type {describe_type(lt)}, got {value!r} ({type(value).__name__}){reason}"
        ) from None


def _scalar(**kwargs: Any) -> Any:
    from flyteidl2.core import literals_pb2

    return literals_pb2.Literal(scalar=literals_pb2.Scalar(**kwargs))


def _primitive(value: Any, simple: int) -> Any:
    from flyteidl2.core import literals_pb2, types_pb2
    from google.protobuf import duration_pb2, timestamp_pb2

    if isinstance(value, bool) and simple != types_pb2.BOOLEAN:
        raise _Mismatch("a boolean is not accepted here")
    if simple == types_pb2.INTEGER and isinstance(value, int):
        return literals_pb2.Primitive(integer=value)
    if simple == types_pb2.FLOAT and isinstance(value, (int, float)):
        return literals_pb2.Primitive(float_value=float(value))  # JSON cannot tell 30 from 30.0
    if simple == types_pb2.STRING and isinstance(value, str):
        return literals_pb2.Primitive(string_value=value)
    if simple == types_pb2.BOOLEAN and isinstance(value, bool):
        return literals_pb2.Primitive(boolean=value)
    if simple == types_pb2.DATETIME and isinstance(value, (dt.datetime, str)):
        when = _datetime(value)
        stamp = timestamp_pb2.Timestamp()
        stamp.FromDatetime(when.astimezone(dt.timezone.utc).replace(tzinfo=None))
        return literals_pb2.Primitive(datetime=stamp)
    if simple == types_pb2.DURATION and isinstance(value, (dt.timedelta, int, float)):
        duration = duration_pb2.Duration()
        duration.FromTimedelta(value if isinstance(value, dt.timedelta) else dt.timedelta(seconds=value))
        return literals_pb2.Primitive(duration=duration)
    raise _Mismatch("")


def _datetime(value: dt.datetime | str) -> dt.datetime:
    """A datetime, or an ISO 8601 string (templates render to strings); naive means UTC."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise _Mismatch("not an ISO 8601 date and time") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _plain(value: Any) -> Any:
    """A dataclass or pydantic model as the dict of its fields; anything else unchanged."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value


def _convert(value: Any, lt: Any) -> Any:
    from flyteidl2.core import literals_pb2, types_pb2

    which = lt.WhichOneof("type")
    if which == "simple":
        if lt.simple == types_pb2.NONE:
            if value is not None:
                raise _Mismatch("only None is accepted here")
            return _scalar(none_type=literals_pb2.Void())
        if lt.simple == types_pb2.STRUCT:
            value = _plain(value)
            if not isinstance(value, Mapping):
                raise _Mismatch("expected a dict, a dataclass or a pydantic model")
            import msgpack

            try:
                packed = msgpack.packb(value)
            except (TypeError, ValueError) as err:
                raise _Mismatch(f"cannot be encoded ({err})") from None
            return _scalar(binary=literals_pb2.Binary(value=packed, tag="msgpack"))
        if lt.simple in (types_pb2.BINARY, types_pb2.ERROR):
            raise _Mismatch("inputs of this type cannot be given from Airflow")
        if value is None:
            raise _Mismatch("None is accepted only for optional inputs")
        return _scalar(primitive=_primitive(value, lt.simple))
    if which == "collection_type":
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
            raise _Mismatch("expected a list")
        items = [_at(index, item, lt.collection_type) for index, item in enumerate(value)]
        return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))
    if which == "map_value_type":
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise _Mismatch("expected a dict with string keys")
        entries = {key: _at(key, item, lt.map_value_type) for key, item in value.items()}
        return literals_pb2.Literal(map=literals_pb2.LiteralMap(literals=entries))
    if which == "enum_type":
        name = value.value if isinstance(value, enum.Enum) else value
        if name not in lt.enum_type.values:
            raise _Mismatch(f"expected one of {list(lt.enum_type.values)}")
        return _scalar(primitive=literals_pb2.Primitive(string_value=name))
    if which == "union_type":
        for variant in lt.union_type.variants:
            try:
                inner = _convert(value, variant)
            except _Mismatch:
                continue
            return _scalar(union=literals_pb2.Union(value=inner, type=variant))
        raise _Mismatch("it fits none of the variants")
    if which == "blob":
        if not isinstance(value, str) or not value:
            raise _Mismatch("expected a URI (s3://..., gs://..., file://...)")
        meta = literals_pb2.BlobMetadata(type=lt.blob)
        return _scalar(blob=literals_pb2.Blob(uri=value, metadata=meta))
    if which == "structured_dataset_type":
        if not isinstance(value, str) or not value:
            raise _Mismatch("expected a URI of the data (s3://..., gs://..., file://...)")
        meta = literals_pb2.StructuredDatasetMetadata(structured_dataset_type=lt.structured_dataset_type)
        return _scalar(structured_dataset=literals_pb2.StructuredDataset(uri=value, metadata=meta))
    raise _Mismatch(f"inputs of Flyte type {which or 'unknown'} cannot be given from Airflow")


def _at(where: int | str, item: Any, lt: Any) -> Any:
    try:
        return _convert(item, lt)
    except _Mismatch as err:
        reason = f": {err}" if str(err) else ""
        raise _Mismatch(f"item {where!r} ({item!r}) is not of Flyte type {describe_type(lt)}{reason}") from None


def build_inputs(task: Any, what: str, inputs: Mapping[str, Any]) -> Any:
    """``task.Inputs`` for a TaskDetails' interface, refusing unknown, missing or wrong inputs.

    Inputs with a default in the task spec may be left out (the server fills them in).
    """
    from flyteidl2.task import common_pb2

    spec = task.spec
    expected = {v.key: v.value.type for v in spec.task_template.interface.inputs.variables}
    defaults = {p.name for p in spec.default_inputs if p.parameter.HasField("default") or not p.parameter.required}
    for name in inputs:
        if name not in expected:
            raise FlyteInputError(
                f"{what} has no input {name!r} (got {inputs[name]!r}); expected inputs: {sorted(expected) or 'none'}"
            )
    missing = [name for name in expected if name not in inputs and name not in defaults]
    if missing:
        wanted = ", ".join(f"{n!r} ({describe_type(expected[n])})" for n in sorted(missing))
        raise FlyteInputError(f"{what} requires input(s) {wanted}, which were not given")
    literals = [
        common_pb2.NamedLiteral(name=name, value=to_literal(value, expected[name], f"Input {name!r} of {what}"))
        for name, value in inputs.items()
    ]
    return common_pb2.Inputs(literals=literals)


BYTES_KEY = "$base64"


def json_safe(value: Any) -> Any:
    """A msgpack-decoded value XCom can store as JSON: ``bytes`` (which msgpack keeps apart from
    strings, and JSON has no type for) become ``{"$base64": "<standard base64>"}``, and map keys
    that are not strings become their ``str()``, as JSON would write them."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {BYTES_KEY: base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def literal_to_json(literal: Any) -> Any:
    """Like Flyte 1's, except that a msgpack value is made JSON-safe (``json_safe``)."""
    return _READER.literal(literal)


def _read_offloaded(uri: str) -> Any:
    """A literal Flyte stored apart (too large to inline): read with fsspec."""
    import fsspec
    from flyteidl2.core import literals_pb2

    with fsspec.open(uri, "rb") as blob:
        return literals_pb2.Literal.FromString(blob.read())


_READER = LiteralReader(read_offloaded=_read_offloaded, decode_msgpack=lambda data: json_safe(unpack_msgpack(data)))


def outputs_to_json(outputs: Any) -> dict[str, Any]:
    """``task.Outputs`` (named literals) → ``{name: JSON value}``."""
    return {named.name: literal_to_json(named.value) for named in outputs.literals}
