"""Execution names: deterministic per task instance, always valid for FlyteAdmin."""

from __future__ import annotations

import pytest

from airflow_provider_flyte.naming import (
    MAX_NAME_LENGTH,
    NAME_PATTERN,
    attempt_name,
    execution_name,
    validate_execution_name,
)


def test_same_task_instance_gets_the_same_name():
    assert execution_name("dag", "run", "task", -1) == execution_name("dag", "run", "task", -1)


@pytest.mark.parametrize(
    "other",
    [("dag2", "run", "task", -1), ("dag", "run2", "task", -1), ("dag", "run", "task2", -1), ("dag", "run", "task", 0)],
)
def test_any_identity_change_changes_the_name(other):
    assert execution_name(*other) != execution_name("dag", "run", "task", -1)


@pytest.mark.parametrize(
    "dag_id,run_id,task_id",
    [
        ("My_DAG.with.dots", "manual__2026-01-01T00:00:00+00:00", "Train_Model"),
        ("9starts_with_digit", "scheduled__x", "group.task"),
        ("d" * 250, "r" * 250, "t" * 250),
        ("___", "---", "..."),
    ],
)
def test_names_match_flyteadmin_rules(dag_id, run_id, task_id):
    name = execution_name(dag_id, run_id, task_id, 12345)
    assert NAME_PATTERN.match(name) and len(name) <= MAX_NAME_LENGTH


def test_long_ids_that_share_a_prefix_do_not_collide():
    a = execution_name("d" * 100, "run", "t" * 100 + "a")
    b = execution_name("d" * 100, "run", "t" * 100 + "b")
    assert a != b


def test_first_attempt_uses_the_base_name_and_later_attempts_a_suffix():
    base = execution_name("dag", "run", "task")
    assert attempt_name(base, 1) == base
    assert attempt_name(base, 3) == base + "-r3"


def test_attempt_names_stay_within_the_length_limit():
    base = "a" * MAX_NAME_LENGTH
    assert len(attempt_name(base, 12)) == MAX_NAME_LENGTH
    assert NAME_PATTERN.match(attempt_name(base, 12))


@pytest.mark.parametrize("bad", ["Upper", "1digit", "under_score", "a" * 64, ""])
def test_invalid_user_names_are_refused_with_the_rule(bad):
    with pytest.raises(ValueError, match="lower-case letters"):
        validate_execution_name(bad)
