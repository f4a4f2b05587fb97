"""FlyteHook against the local admin over real gRPC."""

from __future__ import annotations

import pytest

from airflow_provider_flyte.exceptions import FlyteEntityNotFound, FlyteInputError
from airflow_provider_flyte.hooks.admin_messages import LaunchOptions
from airflow_provider_flyte.hooks.flyte import FlyteHook
from tests.waiting import Phase

P, D = "flytesnacks", "development"


@pytest.fixture
def hook(flyte_conn) -> FlyteHook:
    return FlyteHook(flyte_conn)


def test_test_connection_makes_a_real_call(hook):
    ok, message = hook.test_connection()
    assert ok, message


def test_unreachable_admin_fails_test_connection_with_the_endpoint(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_NOWHERE", '{"conn_type": "flyte", "host": "127.0.0.1", "port": 1, "extra": {"insecure": true, "retries": 0, "timeout": 2}}')
    ok, message = FlyteHook("nowhere").test_connection()
    assert not ok and "127.0.0.1:1" in message


def test_resolves_the_newest_launch_plan_when_no_version_is_given(hook):
    target = hook.resolve_launch_plan(P, D, "simple.double_wf")
    assert target.identifier.version


def test_unknown_launch_plan_is_named_in_the_error(hook):
    with pytest.raises(FlyteEntityNotFound, match="simple.nope"):
        hook.resolve_launch_plan(P, D, "simple.nope")


def test_unknown_version_is_named_in_the_error(hook):
    with pytest.raises(FlyteEntityNotFound, match="v-missing"):
        hook.resolve_launch_plan(P, D, "simple.double_wf", "v-missing")


@pytest.mark.parametrize(
    "inputs,expected",
    [
        ({"y": 1}, r"has no input 'y'"),
        ({"x": "three"}, r"Input 'x' .* expects Flyte type integer, got 'three' \(str\)"),
        ({"x": True}, r"Input 'x' .* expects Flyte type integer, got True \(bool\)"),
        ({"x": 1.5}, r"Input 'x' .* expects Flyte type integer, got 1.5 \(float\)"),
    ],
)
def test_bad_inputs_fail_before_anything_is_launched(hook, flyte_admin, inputs, expected):
    target = hook.resolve_launch_plan(P, D, "simple.double_wf")
    before = len(flyte_admin.executions())
    with pytest.raises(FlyteInputError, match=expected):
        hook.launch(target, "bad-input-never-launched", inputs, LaunchOptions())
    assert len(flyte_admin.executions()) == before


def test_missing_required_input_names_the_input_and_its_type(hook):
    target = hook.resolve_launch_plan(P, D, "simple.summarize_wf")
    with pytest.raises(FlyteInputError, match=r"requires input\(s\) 'values' \(list\[integer\]\)"):
        hook.launch(target, "missing-input-never-launched", {}, LaunchOptions())


def test_fixed_inputs_cannot_be_overridden(hook):
    target = hook.resolve_launch_plan(P, D, "simple.double_fixed")
    with pytest.raises(FlyteInputError, match="fixed input"):
        hook.launch(target, "fixed-never-launched", {"x": 1}, LaunchOptions())


def test_launching_an_existing_name_adopts_the_execution(hook, flyte_admin):
    target = hook.resolve_launch_plan(P, D, "simple.double_wf")
    first = hook.launch(target, "adopt-me", {"x": 2}, LaunchOptions())
    again = hook.launch(target, "adopt-me", {"x": 2}, LaunchOptions())
    assert first.name == again.name == "adopt-me"
    assert sum(e.id.name == "adopt-me" for e in flyte_admin.executions()) == 1


def test_spec_options_reach_flyteadmin(hook, flyte_admin):
    target = hook.resolve_launch_plan(P, D, "simple.double_wf")
    options = LaunchOptions(
        labels={"team": "ml"}, annotations={"note": "x"}, envs={"MODE": "fast"}, max_parallelism=3,
        kubernetes_service_account="trainer", overwrite_cache=True, interruptible=False, cluster_pool="gpu",
    )
    hook.launch(target, "spec-options", {"x": 1}, options)
    spec = flyte_admin.get_execution("spec-options").spec
    assert dict(spec.labels.values) == {"team": "ml"}
    assert dict(spec.annotations.values) == {"note": "x"}
    assert [(kv.key, kv.value) for kv in spec.envs.values] == [("MODE", "fast")]
    assert spec.max_parallelism == 3
    assert spec.security_context.run_as.k8s_service_account == "trainer"
    assert spec.overwrite_cache and spec.interruptible.value is False
    assert spec.cluster_assignment.cluster_pool_name == "gpu"


def test_terminating_a_finished_execution_is_not_an_error(hook, flyte_admin):
    target = hook.resolve_launch_plan(P, D, "simple.double_wf")
    hook.launch(target, "finished-then-terminated", {"x": 1}, LaunchOptions())
    flyte_admin.wait_for_phase("finished-then-terminated", {Phase.SUCCEEDED}, timeout=60)
    assert hook.terminate(P, D, "finished-then-terminated", "late") is False


def test_missing_execution_reads_as_none(hook):
    assert hook.find_execution(P, D, "never-existed") is None


def test_project_and_domain_default_to_the_connections(hook):
    assert hook.project_domain(None, None) == (P, D)
    assert hook.project_domain("other", None) == ("other", D)


def test_missing_project_names_the_connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_BARE", '{"conn_type": "flyte", "host": "h", "extra": {"insecure": true}}')
    with pytest.raises(ValueError, match="connection 'bare' has no default"):
        FlyteHook("bare").project_domain(None, "d")


def test_an_integer_is_accepted_for_a_float_input(hook, flyte_admin):
    target = hook.resolve_launch_plan(P, D, "simple.sleepy_wf")
    hook.launch(target, "int-for-float", {"seconds": 1}, LaunchOptions())

    assert flyte_admin.wait_for_phase("int-for-float", {Phase.SUCCEEDED}, timeout=30).closure.phase == Phase.SUCCEEDED
