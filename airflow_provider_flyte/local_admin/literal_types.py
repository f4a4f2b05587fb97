"""Input type checking the way flyteadmin does it: infer a literal's type, then ask if it casts.

This mirrors flytepropeller's `LiteralTypeForLiteral` and `AreTypesCastable` for the types
that matter in practice (primitives, none/optionals, unions, collections, maps, blobs,
structured datasets, dataclasses); kinds it does not model are accepted rather than rejected,
because a false rejection would block a launch a real admin allows.
"""

from __future__ import annotations

from flyteidl.core import literals_pb2, types_pb2
from google.protobuf import text_format

_PRIMITIVE_TYPES = {
    "integer": types_pb2.INTEGER,
    "float_value": types_pb2.FLOAT,
    "string_value": types_pb2.STRING,
    "boolean": types_pb2.BOOLEAN,
    "datetime": types_pb2.DATETIME,
    "duration": types_pb2.DURATION,
}


def describe(literal_type: types_pb2.LiteralType) -> str:
    return text_format.MessageToString(literal_type, as_one_line=True)


def literal_type_of(literal: literals_pb2.Literal) -> types_pb2.LiteralType:
    kind = literal.WhichOneof("value")
    if kind == "scalar":
        return _scalar_type(literal.scalar)
    if kind == "collection":
        return types_pb2.LiteralType(collection_type=_element_type(literal.collection.literals))
    if kind == "map":
        return types_pb2.LiteralType(map_value_type=_element_type(literal.map.literals.values()))
    if kind == "offloaded_metadata":
        return literal.offloaded_metadata.inferred_type
    return types_pb2.LiteralType()


def is_castable(actual: types_pb2.LiteralType, expected: types_pb2.LiteralType) -> bool:
    expected_kind = expected.WhichOneof("type")
    actual_kind = actual.WhichOneof("type")
    if actual_kind is None or expected_kind is None:
        return True
    if expected_kind == "union_type":
        return _castable_to_union(actual, expected.union_type)
    if actual_kind == "union_type":
        return all(is_castable(variant, expected) for variant in actual.union_type.variants)
    if expected_kind == "simple":
        return _castable_to_simple(actual, expected.simple)
    if expected_kind == "collection_type":
        return actual_kind == "collection_type" and _element_castable(actual.collection_type, expected.collection_type)
    if expected_kind == "map_value_type":
        return actual_kind == "map_value_type" and _element_castable(actual.map_value_type, expected.map_value_type)
    if expected_kind == "blob":
        return actual_kind == "blob" and _blob_castable(actual.blob, expected.blob)
    if expected_kind == "enum_type":
        return actual_kind == "enum_type" or (actual_kind == "simple" and actual.simple == types_pb2.STRING)
    if expected_kind in ("structured_dataset_type", "schema"):
        return actual_kind in ("structured_dataset_type", "schema")
    return True


def _scalar_type(scalar: literals_pb2.Scalar) -> types_pb2.LiteralType:
    kind = scalar.WhichOneof("value")
    if kind == "primitive":
        primitive_kind = scalar.primitive.WhichOneof("value")
        return types_pb2.LiteralType(simple=_PRIMITIVE_TYPES.get(primitive_kind, types_pb2.NONE))
    if kind == "none_type":
        return types_pb2.LiteralType(simple=types_pb2.NONE)
    if kind == "blob":
        return types_pb2.LiteralType(blob=scalar.blob.metadata.type)
    if kind == "binary":
        return types_pb2.LiteralType(simple=types_pb2.BINARY)
    if kind == "generic":
        return types_pb2.LiteralType(simple=types_pb2.STRUCT)
    if kind == "structured_dataset":
        return types_pb2.LiteralType(structured_dataset_type=scalar.structured_dataset.metadata.structured_dataset_type)
    if kind == "schema":
        return types_pb2.LiteralType(schema=scalar.schema.type)
    if kind == "error":
        return types_pb2.LiteralType(simple=types_pb2.ERROR)
    if kind == "union":
        return scalar.union.type
    return types_pb2.LiteralType()


def _element_type(elements) -> types_pb2.LiteralType:
    """An empty container says nothing about its element type, so it is NONE (castable to all)."""
    distinct: dict[bytes, types_pb2.LiteralType] = {}
    for element in elements:
        element_type = literal_type_of(element)
        distinct.setdefault(element_type.SerializeToString(deterministic=True), element_type)
    if not distinct:
        return types_pb2.LiteralType(simple=types_pb2.NONE)
    if len(distinct) == 1:
        return next(iter(distinct.values()))
    return types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=list(distinct.values())))


def _element_castable(actual: types_pb2.LiteralType, expected: types_pb2.LiteralType) -> bool:
    return (actual.WhichOneof("type") == "simple" and actual.simple == types_pb2.NONE) or is_castable(actual, expected)


def _castable_to_union(actual: types_pb2.LiteralType, expected: types_pb2.UnionType) -> bool:
    if actual.WhichOneof("type") == "union_type":
        return all(_castable_to_union(variant, expected) for variant in actual.union_type.variants)
    return any(is_castable(actual, variant) for variant in expected.variants)


def _castable_to_simple(actual: types_pb2.LiteralType, expected: int) -> bool:
    if actual.WhichOneof("type") != "simple":
        return False
    if expected == types_pb2.STRUCT:
        # dataclasses and pydantic models travel as msgpack binaries since flytekit 1.14
        return actual.simple in (types_pb2.STRUCT, types_pb2.BINARY)
    return actual.simple == expected


def _blob_castable(actual: types_pb2.BlobType, expected: types_pb2.BlobType) -> bool:
    formats_match = not actual.format or not expected.format or actual.format == expected.format
    return formats_match and actual.dimensionality == expected.dimensionality
