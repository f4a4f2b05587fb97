"""Templated inputs keep Python values and never turn strings into numbers."""

from __future__ import annotations

import jinja2
import pytest

from airflow_provider_flyte.operators.templating import render_native, value_environment

CONTEXT = {"ds_nodash": "20260101", "params": {"flag": True, "numbers": [1, 2], "n": 3}}


@pytest.fixture
def env() -> jinja2.Environment:
    return value_environment(jinja2.Environment(undefined=jinja2.StrictUndefined))


@pytest.mark.parametrize(
    "template,expected",
    [
        ("{{ ds_nodash }}", "20260101"),
        ("{{ params.flag }}", True),
        ("{{ params.numbers }}", [1, 2]),
        ("{{ params.n * 2 }}", 6),
        ("run-{{ params.n }}", "run-3"),
        ("2", "2"),
        ("[1, 2]", "[1, 2]"),
    ],
)
def test_single_expressions_keep_their_value_and_text_stays_text(env, template, expected):
    assert render_native(template, CONTEXT, env) == expected


def test_nested_structures_are_rendered(env):
    assert render_native({"a": ["{{ params.n }}", {"b": "{{ ds_nodash }}"}]}, CONTEXT, env) == {"a": [3, {"b": "20260101"}]}


def test_custom_delimiters_of_the_dag_are_honoured():
    env = value_environment(jinja2.Environment(variable_start_string="[[", variable_end_string="]]"))
    assert render_native("[[ params.n ]]", CONTEXT, env) == 3
    assert render_native("{{ not a template }}", CONTEXT, env) == "{{ not a template }}"


def test_undefined_variables_fail_like_the_dags_environment(env):
    with pytest.raises(jinja2.UndefinedError):
        render_native("{{ missing }}", CONTEXT, env)
