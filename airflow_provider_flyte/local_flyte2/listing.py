"""The list calls' ``ListRequest``: filters on the fields a list supports, sort by creation, pages.

Each list names its fields (a function from item to the field's value as a string, the form filter values
come in); a filter on any other field, or with a function not handled here, is invalid_argument rather
than silently ignored, so a caller never takes an unfiltered list for a filtered one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from flyteidl2.common import list_pb2

import airflow_provider_flyte.local_flyte2.validation as validation

T = TypeVar("T")

# What a list call returns when its request names no limit.
DEFAULT_PAGE_SIZE = 100

_TESTS: dict[int, Callable[[str, list[str]], bool]] = {
    list_pb2.Filter.EQUAL: lambda value, values: value in values,
    list_pb2.Filter.VALUE_IN: lambda value, values: value in values,
    list_pb2.Filter.NOT_EQUAL: lambda value, values: value not in values,
    list_pb2.Filter.VALUE_NOT_IN: lambda value, values: value not in values,
    list_pb2.Filter.CONTAINS: lambda value, values: any(v in value for v in values),
    list_pb2.Filter.CONTAINS_CASE_INSENSITIVE: lambda value, values: any(v.lower() in value.lower() for v in values),
    list_pb2.Filter.ENDS_WITH: lambda value, values: any(value.endswith(v) for v in values),
}


def filtered(items: Sequence[T], request: list_pb2.ListRequest, fields: Mapping[str, Callable[[T], str]]) -> list[T]:
    """The items every filter of ``request`` accepts (filters are ANDed, as in the real service)."""
    checks: list[Callable[[T], bool]] = []
    for f in request.filters:
        field = fields.get(f.field)
        test = _TESTS.get(f.function)
        if field is None:
            raise validation.invalid(f"unsupported filter field {f.field!r} (supported: {', '.join(fields)})")
        if test is None:
            raise validation.invalid(f"unsupported filter function {list_pb2.Filter.Function.Name(f.function)}")
        values = list(f.values)
        checks.append(lambda item, field=field, test=test, values=values: test(field(item), values))  # type: ignore[misc]
    return [item for item in items if all(check(item) for check in checks)]


def newest_first(request: list_pb2.ListRequest, default: bool) -> bool:
    """Whether a list ordered by creation goes newest first: as its sort asks, else the list's default."""
    if not request.sort_by.key:
        return default
    if request.sort_by.key not in ("created_at", "updated_at", "deployed_at"):
        raise validation.invalid(f"unsupported sort key {request.sort_by.key!r}")
    return request.sort_by.direction == list_pb2.Sort.DESCENDING


def page(items: Sequence[T], request: list_pb2.ListRequest) -> tuple[list[T], str]:
    """One page of ``items``: its token is the offset, as a string; "" after the last page."""
    try:
        offset = int(request.token) if request.token else 0
    except ValueError:
        raise validation.invalid(f"invalid page token {request.token!r}") from None
    limit = request.limit or DEFAULT_PAGE_SIZE
    chunk = list(items[offset : offset + limit])
    return chunk, str(offset + limit) if offset + limit < len(items) else ""
