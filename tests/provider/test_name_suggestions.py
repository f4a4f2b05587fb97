"""A launch plan or task that is not registered: the error names what is, before anything launches."""

from __future__ import annotations

import pytest

from airflow_provider_flyte.exceptions import FlyteEntityNotFound
from airflow_provider_flyte.hooks.flyte import FlyteHook, close_matches
from tests.airflow_runs import run_dag
from tests.conftest import DOMAIN, PROJECT
from tests.provider.dags import single_launch_dag

P, D = PROJECT, DOMAIN


@pytest.fixture
def hook(flyte_conn) -> FlyteHook:
    return FlyteHook(flyte_conn)


def test_a_launch_plan_typo_names_the_close_match(hook):
    with pytest.raises(FlyteEntityNotFound) as caught:
        hook.resolve_launch_plan(P, D, "simple.dobule_wf")

    assert str(caught.value) == (
        "No launch plan named 'simple.dobule_wf' is registered in flytesnacks/development; "
        "did you mean 'simple.double_wf'?"
    )


def test_a_launch_plan_without_its_module_path_names_the_full_name(hook):
    with pytest.raises(FlyteEntityNotFound, match=r"did you mean 'simple\.double_wf'\?"):
        hook.resolve_launch_plan(P, D, "double_wf")


def test_a_task_typo_names_the_close_match(hook):
    with pytest.raises(FlyteEntityNotFound, match=r"No task named 'simple\.dubble' .*; did you mean 'simple\.double'\?"):
        hook.resolve_task(P, D, "simple.dubble")


def test_a_name_like_none_registered_says_so(hook):
    with pytest.raises(FlyteEntityNotFound, match=r"no registered launch plan name is close to it \(\d+ registered there\)"):
        hook.resolve_launch_plan(P, D, "zzz.qqq")


def test_a_wrong_domain_says_nothing_is_registered_there(hook):
    with pytest.raises(FlyteEntityNotFound, match="no launch plans are registered there at all"):
        hook.resolve_launch_plan(P, "production", "simple.double_wf")


def test_an_unregistered_version_lists_the_registered_versions(hook):
    with pytest.raises(FlyteEntityNotFound, match=r"version 'v9' is not registered; its registered versions, newest first: 'local-"):
        hook.resolve_launch_plan(P, D, "simple.double_wf", version="v9")


def test_an_unregistered_version_of_a_typo_names_the_close_match(hook):
    with pytest.raises(FlyteEntityNotFound, match=r"no launch plan of that name is; did you mean 'simple\.double_wf'\?"):
        hook.resolve_launch_plan(P, D, "simple.dobule_wf", version="v9")


def test_a_typo_in_a_dag_fails_the_task_with_the_close_match_and_launches_nothing(airflow_db, flyte_conn, flyte_admin, capfd):
    before = len(flyte_admin.executions())

    run = run_dag(single_launch_dag("launch_plan_typo", "simple.dobule_wf", {"x": 1}))

    assert run.state == "failed"
    assert "did you mean 'simple.double_wf'?" in "".join(capfd.readouterr())
    assert len(flyte_admin.executions()) == before


def test_close_matches_prefer_the_closest_of_names_sharing_a_module_path():
    registered = ["pkg.workflows.training_workflow", "pkg.workflows.scoring_workflow", ".flytegen.pkg.workflows.train"]

    assert close_matches("pkg.workflows.trainig_workflow", registered) == ["pkg.workflows.training_workflow"]
    assert close_matches("train", registered) == []  # implicit .flytegen launch plans are not suggested
