"""Rendering ``inputs`` to Python values for Flyte's type engine.

Jinja's NativeEnvironment passes every rendered string through ``literal_eval``, so
``"{{ ds_nodash }}"`` would become the int 20260101 and fail a Flyte ``str`` input. Here a
template that is one expression keeps that expression's own Python value (a list stays a list, a
string stays a string); anything else renders as text. Strings without template markup are left
alone, so a plain ``"2"`` stays a string.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, islice
from typing import Any

import jinja2
import jinja2.nativetypes


def _keep_values(values: Iterable[Any]) -> Any:
    head = list(islice(values, 2))
    if len(head) == 1:
        # Undefined renders as text, so StrictUndefined raises as it would in the DAG's environment.
        return str(head[0]) if isinstance(head[0], jinja2.Undefined) else head[0]
    return "".join(str(v) for v in chain(head, values))


class _ValueTemplate(jinja2.nativetypes.NativeTemplate):
    pass


class _ValueEnvironment(jinja2.nativetypes.NativeEnvironment):
    concat = staticmethod(_keep_values)
    template_class = _ValueTemplate


_ValueTemplate.environment_class = _ValueEnvironment

_SYNTAX = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
)


def value_environment(text_env: jinja2.Environment) -> jinja2.Environment:
    """An environment like the DAG's (delimiters, undefined, loader, filters, globals) that keeps values."""
    env = _ValueEnvironment(
        undefined=text_env.undefined,
        loader=text_env.loader,
        extensions=list(text_env.extensions),
        **{name: getattr(text_env, name) for name in _SYNTAX},
    )
    env.filters.update(text_env.filters)
    env.globals.update(text_env.globals)
    env.tests.update(text_env.tests)
    return env


def render_native(value: Any, context: Mapping[str, Any], env: jinja2.Environment) -> Any:
    """Render templates inside ``value`` (nested dicts, lists, XComArgs) to Python values."""
    from airflow.sdk import XComArg

    if isinstance(value, str):
        if env.variable_start_string not in value and env.block_start_string not in value:
            return value
        return env.from_string(value).render(**context)
    if isinstance(value, XComArg):
        return value.resolve(context)
    if isinstance(value, Mapping):
        return {k: render_native(v, context, env) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(render_native(v, context, env) for v in value)
    return value


class RendersNativeFields:
    """Mixin for operators: ``native_template_fields`` render to Python values (``render_native``),
    every other template field as text, as Airflow renders them."""

    native_template_fields: Sequence[str] = ()

    def _do_render_template_fields(
        self, parent: Any, template_fields: Iterable[str], context: Mapping[str, Any], jinja_env: Any, seen_oids: set[int]
    ) -> None:
        fields = list(template_fields)
        if parent is self:
            for name in self.native_template_fields:
                if name in fields:
                    fields.remove(name)
                    setattr(self, name, render_native(getattr(self, name), context, value_environment(jinja_env)))
        super()._do_render_template_fields(parent, fields, context, jinja_env, seen_oids)  # type: ignore[misc]
