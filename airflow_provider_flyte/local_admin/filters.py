"""List filters as flyteadmin parses them: `eq(phase,RUNNING)+value_in(execution_name,a;b)`.

flyteadmin turns each `func(field,value)` into a SQL condition on a column of the listed
entity; here each becomes a predicate over the stored protobuf. Only the execution columns
callers filter on in practice are modelled; any other column is rejected as flyteadmin rejects
unknown ones (INVALID_ARGUMENT), rather than silently ignored.

Filters on `execution_name` (`eq`, `value_in`) also name the executions that can match, so the
store looks those up by key instead of scanning every execution (a poller listing its few
hundred runs by name among thousands stays cheap, as an indexed column is in flyteadmin).
"""

from __future__ import annotations

import datetime
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flyteidl.admin import execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2

from airflow_provider_flyte.local_admin.errors import invalid_argument

Predicate = Callable[[execution_pb2.Execution], bool]
_EXPRESSION = re.compile(r"(.+)\((.+),\s?(.+)\)")  # flyteadmin's filterRegex, unanchored like Go's
_EXECUTION_PREFIX = "execution."
_PHASES = core_execution_pb2.WorkflowExecution
_SCALAR_FUNCTIONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "contains": lambda actual, wanted: str(wanted) in str(actual),
}
_LIST_FUNCTIONS: dict[str, Callable[[Any, frozenset], bool]] = {
    "value_in": lambda actual, wanted: actual in wanted,
    "value_not_in": lambda actual, wanted: actual not in wanted,
}


def _timestamp(execution: execution_pb2.Execution) -> datetime.datetime:
    return execution.closure.created_at.ToDatetime(tzinfo=datetime.timezone.utc)


def _updated(execution: execution_pb2.Execution) -> datetime.datetime:
    """flyteadmin's ``execution_updated_at`` (the closure's) and its row's ``updated_at``: here the
    closure is the row, so both are the time of the last phase change."""
    return execution.closure.updated_at.ToDatetime(tzinfo=datetime.timezone.utc)


def _parse_timestamp(value: str) -> datetime.datetime:
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise invalid_argument(f"Timestamp {value} must conform to RFC3339 Nano spec") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


# column -> (value of a stored execution, parser of a filter value)
_EXECUTION_COLUMNS: dict[str, tuple[Callable[[execution_pb2.Execution], Any], Callable[[str], Any]]] = {
    "execution_project": (lambda e: e.id.project, str),
    "execution_domain": (lambda e: e.id.domain, str),
    "execution_name": (lambda e: e.id.name, str),
    "phase": (lambda e: _PHASES.Phase.Name(e.closure.phase), str),
    "created_at": (_timestamp, _parse_timestamp),
    "execution_created_at": (_timestamp, _parse_timestamp),
    "updated_at": (_updated, _parse_timestamp),
    "execution_updated_at": (_updated, _parse_timestamp),
}
# flyteadmin joins the launch plan an execution ran (``launch_plan.name``); a single-task
# execution runs the launch plan flyteadmin made for its task, under the task's identifier.
def _launch_plan(part: str) -> Callable[[execution_pb2.Execution], Any]:
    return lambda execution: getattr(execution.spec.launch_plan, part)


_JOINED_COLUMNS: dict[str, tuple[Callable[[execution_pb2.Execution], Any], Callable[[str], Any]]] = {
    f"launch_plan.{part}": (_launch_plan(part), str) for part in ("project", "domain", "name", "version")
}


@dataclass(frozen=True)
class ExecutionFilter:
    """A parsed filter string: every predicate must hold (flyteadmin ANDs them)."""

    predicates: tuple[Predicate, ...] = ()
    names: frozenset[str] | None = None  # when set, only executions with one of these names can match

    def __call__(self, execution: execution_pb2.Execution) -> bool:
        return all(predicate(execution) for predicate in self.predicates)


def execution_filters(expression: str) -> ExecutionFilter:
    """Parses a filter string for ListExecutions."""
    if not expression:
        return ExecutionFilter()
    predicates, names = [], None
    for part in expression.split("+"):
        predicate, named = _execution_predicate(part)
        predicates.append(predicate)
        if named is not None:
            names = named if names is None else names & named
    return ExecutionFilter(tuple(predicates), names)


def _execution_predicate(part: str) -> tuple[Predicate, frozenset[str] | None]:
    """The predicate of one `func(field,value)`, and the names it restricts matches to, if any."""
    match = _EXPRESSION.search(part)
    if match is None:
        raise invalid_argument("invalid value for filters")
    function, field, raw_value = match.groups()
    field = field.removeprefix(_EXECUTION_PREFIX)
    columns = _JOINED_COLUMNS if field in _JOINED_COLUMNS else _EXECUTION_COLUMNS
    if field not in columns:
        raise invalid_argument(f"'executions.{field}' is invalid filter")
    value_of, parse = columns[field]
    values = [parse(value) for value in raw_value.split(";")]
    if function in _LIST_FUNCTIONS:
        test, wanted_set = _LIST_FUNCTIONS[function], frozenset(values)
        named = wanted_set if (function, field) == ("value_in", "execution_name") else None
        return (lambda execution: test(value_of(execution), wanted_set)), named
    if function in _SCALAR_FUNCTIONS:
        if len(values) != 1:
            raise invalid_argument(f"{function} takes a single value, got {raw_value}")
        compare, wanted = _SCALAR_FUNCTIONS[function], values[0]
        named = frozenset(values) if (function, field) == ("eq", "execution_name") else None
        return (lambda execution: compare(value_of(execution), wanted)), named
    raise invalid_argument(f"unrecognized filter function: {function}")
