"""Typed inputs go through Flyte's type engine; typed outputs come back as JSON values."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_flyte.exceptions import FlyteInputError
from airflow_provider_flyte.hooks.admin_messages import LaunchOptions
from airflow_provider_flyte.hooks.flyte import FlyteHook
from tests.conftest import REPO

P, D = "flytesnacks", "development"
SUCCEEDED = 4


@pytest.fixture(scope="module")
def typed_admin(flyte_admin):
    flyte_admin.register_module(REPO / "tests" / "workflows" / "typed.py")
    return flyte_admin


@pytest.fixture
def hook(flyte_conn) -> FlyteHook:
    return FlyteHook(flyte_conn)


def run(hook: FlyteHook, admin, launch_plan: str, name: str, inputs: dict) -> dict:
    hook.launch(hook.resolve_launch_plan(P, D, launch_plan), name, inputs, LaunchOptions())
    admin.wait_for_phase(name, {SUCCEEDED}, timeout=60)
    return hook.get_outputs(P, D, name)


def test_outputs_become_json_values(hook, typed_admin):
    outputs = run(hook, typed_admin, "typed.produce_wf", "typed-outputs", {"n": 3})

    assert outputs["o0"] == "2026-01-02T03:04:05+00:00"
    assert outputs["o1"] == 180.0
    assert outputs["o2"] == "green"
    assert outputs["o3"] == {"x": 1.5, "y": -2.0}
    assert outputs["o4"] == [3, None]
    assert isinstance(outputs["o5"], str) and outputs["o5"].endswith("report.txt")


def test_rich_inputs_are_converted_with_the_entity_interface(hook, typed_admin):
    outputs = run(
        hook, typed_admin, "typed.describe_wf", "typed-inputs",
        {"when": datetime(2026, 5, 6, tzinfo=timezone.utc), "wait": timedelta(seconds=90), "color": "red",
         "point": {"x": 1.0, "y": 2.0}},
    )

    assert outputs["o0"] == {
        "when": "2026-05-06T00:00:00+00:00", "wait": "90.0", "color": "red", "point": "1.0,2.0", "note": "None"
    }


def test_enum_input_outside_its_values_names_the_allowed_values(hook, typed_admin):
    target = hook.resolve_launch_plan(P, D, "typed.describe_wf")
    with pytest.raises(FlyteInputError, match=r"Input 'color' .* enum\['red', 'green'\], got 'blue'"):
        hook.launch(target, "typed-bad-enum", {"when": datetime(2026, 1, 1), "wait": timedelta(1), "color": "blue",
                                               "point": {"x": 1.0, "y": 2.0}}, LaunchOptions())


def test_outputs_flyteadmin_offloads_are_read_from_their_blob(hook, typed_admin):
    outputs = run(hook, typed_admin, "typed.big_wf", "typed-offloaded", {"n": 3_000_000})

    assert len(outputs["o0"]) == 3_000_000
