"""Two protobuf chores every store of the admin needs: a timestamp of now, and a defensive copy
(callers must never mutate what the admin keeps)."""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

M = TypeVar("M", bound=Message)


def now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


def copy_message(message: M) -> M:
    clone = type(message)()
    clone.CopyFrom(message)
    return clone
