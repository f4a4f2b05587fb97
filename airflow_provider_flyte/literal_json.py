"""Flyte literals as JSON values (XCom, events, log lines), for Flyte 1 and Flyte 2 alike.

flyteidl (Flyte 1) and flyteidl2 (Flyte 2) carry the same literal model, field for field, under
different packages, so one reader serves both. Only two things differ, and each side passes them
in: how a literal stored apart (offloaded) is parsed back into that side's message, and what a
msgpack-encoded value is turned into. Nothing here imports either package.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def unpack_msgpack(data: bytes) -> Any:
    import msgpack

    return msgpack.unpackb(data, strict_map_key=False)


@dataclass(frozen=True)
class LiteralReader:
    """``read_offloaded(uri)`` parses an offloaded literal; ``decode_msgpack(bytes)`` turns a msgpack
    binary into its value."""

    read_offloaded: Callable[[str], Any]
    decode_msgpack: Callable[[bytes], Any] = unpack_msgpack

    def literal(self, literal: Any) -> Any:
        which = literal.WhichOneof("value")
        if which == "scalar":
            return self.scalar(literal.scalar)
        if which == "collection":
            return [self.literal(item) for item in literal.collection.literals]
        if which == "map":
            return {key: self.literal(item) for key, item in literal.map.literals.items()}
        if which == "offloaded_metadata":
            return self.literal(self.read_offloaded(literal.offloaded_metadata.uri))
        return None

    def scalar(self, scalar: Any) -> Any:
        which = scalar.WhichOneof("value")
        if which == "primitive":
            p = scalar.primitive
            kind = p.WhichOneof("value")
            if kind == "datetime":
                return p.datetime.ToDatetime(tzinfo=dt.timezone.utc).isoformat()
            if kind == "duration":
                return p.duration.ToTimedelta().total_seconds()
            return getattr(p, kind) if kind else None
        if which == "blob":
            return scalar.blob.uri
        if which == "structured_dataset":
            return scalar.structured_dataset.uri
        if which == "schema":
            return scalar.schema.uri
        if which == "union":
            return self.literal(scalar.union.value)
        if which == "generic":
            from google.protobuf import json_format

            return json_format.MessageToDict(scalar.generic)
        if which == "binary":
            if scalar.binary.tag == "msgpack":
                return self.decode_msgpack(scalar.binary.value)
            return base64.b64encode(scalar.binary.value).decode()
        if which == "error":
            return {"failed_node_id": scalar.error.failed_node_id, "message": scalar.error.message}
        return None
