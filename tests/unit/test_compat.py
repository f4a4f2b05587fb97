"""One wheel for Airflow 3.0 to 3.3: what differs lives in ``airflow_provider_flyte/compat.py`` only."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

from airflow_provider_flyte import compat

REPO = Path(__file__).resolve().parents[2]
SHIPPED = [REPO / "airflow_provider_flyte", REPO / "flyte_provider", REPO / "example_dags"]
COMPAT = REPO / "airflow_provider_flyte" / "compat.py"
VERSION_NAMES = {"AIRFLOW_VERSION", "AIRFLOW_RELEASE", "version_tuple", "require_airflow_3", "_LIMITS"}


def _sources() -> list[Path]:
    return [p for root in SHIPPED for p in sorted(root.rglob("*.py")) if p != COMPAT]


def _airflow_import(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "airflow"
    return isinstance(node, ast.Import) and any(a.name.split(".")[0] == "airflow" for a in node.names)


def _version_branches(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if _airflow_import(node):
            imported = [getattr(node, "module", None) or "", *(a.name for a in node.names)]  # type: ignore[attr-defined]
            if any("version" in name for name in imported):
                found.append(f"line {node.lineno}: imports {' '.join(imported)}")
        if isinstance(node, ast.Attribute) and node.attr == "__version__":
            found.append(f"line {node.lineno}: reads a __version__")
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
        if name.startswith(("AIRFLOW_3_", "AIRFLOW_V_")) or name in VERSION_NAMES:
            found.append(f"line {node.lineno}: uses {name}")
        if isinstance(node, ast.alias) and (node.name.startswith(("AIRFLOW_3_", "AIRFLOW_V_")) or node.name in VERSION_NAMES):
            found.append(f"imports {node.name}")
        if isinstance(node, ast.Try) and any(_airflow_import(n) for stmt in node.body for n in ast.walk(stmt)):
            caught = {ast.unparse(h.type) if h.type else "everything" for h in node.handlers}
            if caught & {"ImportError", "ModuleNotFoundError", "AttributeError", "everything"}:
                found.append(f"line {node.lineno}: tries an airflow import and falls back ({', '.join(sorted(caught))})")
    return found


def test_only_the_compat_module_branches_on_the_airflow_version():
    offenders = {
        str(path.relative_to(REPO)): found
        for path in _sources()
        if (found := _version_branches(ast.parse(path.read_text(), str(path))))
    }
    assert offenders == {}


def test_the_branch_check_sees_the_ways_code_asks_which_airflow_runs():
    code = (
        "from airflow import __version__\n"
        "from airflow_provider_flyte.compat import AIRFLOW_3_2_PLUS\n"
        "try:\n    from airflow.sdk import conf\nexcept ImportError:\n    from airflow.configuration import conf\n"
    )
    assert len(_version_branches(ast.parse(code))) >= 3


@pytest.mark.parametrize("version", ["2.11.2", "2.10.5"])
def test_airflow_2_is_refused_with_a_message_that_says_what_to_do(version):
    with pytest.raises(ImportError) as refused:
        compat.require_airflow_3(version)
    message = str(refused.value)
    assert f"this is Airflow {version}" in message
    assert "Airflow 3.0 or newer" in message and "airflow-provider-flyte<1" in message


@pytest.mark.parametrize("version", ["3.0.0", "3.1.8", "3.3.2", "3.4.0.dev0"])
def test_every_airflow_3_is_accepted(version):
    compat.require_airflow_3(version)


@pytest.mark.parametrize(
    "version,release", [("3.1.8", (3, 1, 8)), ("3.2.0rc1", (3, 2, 0)), ("3.3.0.dev0", (3, 3, 0)), ("3.2", (3, 2, 0))]
)
def test_release_candidates_and_dev_builds_count_as_their_release(version, release):
    assert compat.version_tuple(version) == release


def test_the_names_other_modules_import_exist_on_the_running_airflow():
    from airflow.sdk import BaseOperator

    for name in ("BaseHook", "conf", "AirflowException", "AirflowFailException", "AirflowSkipException", "AirflowSensorTimeout"):
        assert getattr(compat, name) is not None, name
    assert issubclass(compat.AirflowFailException, compat.AirflowException)
    assert compat.conf.get("core", "dags_folder")
    assert BaseOperator is not None


def test_the_airflow_exceptions_are_the_ones_the_task_runner_handles():
    """A fail exception Airflow does not recognise would be retried instead of failing the task."""
    from airflow.sdk.execution_time import task_runner

    source = Path(task_runner.__file__).read_text()
    assert "AirflowFailException" in source and "AirflowSkipException" in source
    module = compat.AirflowFailException.__module__
    assert module in ("airflow.exceptions", "airflow.sdk.exceptions")


def test_a_feature_this_airflow_lacks_is_said_once_per_process(monkeypatch, caplog):
    monkeypatch.setitem(compat._LIMITS, "time-travel", (False, "the triggerer cannot travel in time"))
    monkeypatch.setattr(compat, "_SAID", set())

    with caplog.at_level(logging.WARNING, logger=compat.__name__):
        compat.degraded("time-travel")
        compat.degraded("time-travel")

    said = [r.getMessage() for r in caplog.records if "travel in time" in r.getMessage()]
    assert said == [f"Airflow {compat.AIRFLOW_VERSION}: the triggerer cannot travel in time"]


def test_a_feature_this_airflow_has_is_not_mentioned(monkeypatch, caplog):
    monkeypatch.setitem(compat._LIMITS, "time-travel", (True, "the triggerer cannot travel in time"))
    monkeypatch.setattr(compat, "_SAID", set())

    with caplog.at_level(logging.WARNING, logger=compat.__name__):
        compat.degraded("time-travel")

    assert "travel in time" not in caplog.text


def test_the_ui_shows_the_flyte_connection_form_on_the_running_airflow():
    """3.2+ draws it from provider info's conn-fields, 3.0/3.1 from the hook's widget methods."""
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
    from airflow.providers_manager import ProvidersManager

    from airflow_provider_flyte.provider_info import CONN_FIELDS

    ProvidersManager()._cleanup()  # as in a fresh API server: 3.1 keeps hooks loaded before this call
    HookMetaService.hook_meta_data.cache_clear()
    flyte = {meta.connection_type: meta for meta in HookMetaService.hook_meta_data()}["flyte"]

    assert set(flyte.extra_fields) == set(CONN_FIELDS)
    auth_mode = flyte.extra_fields["auth_mode"]
    assert auth_mode["schema"]["title"] == "Auth mode"
    assert auth_mode["schema"]["enum"][0] == "none"
    assert auth_mode["value"] == "none"
    assert flyte.standard_fields.host.title == "FlyteAdmin host"
    assert flyte.standard_fields.url_schema.hidden


@pytest.mark.parametrize("pins", sorted((REPO / "constraints").glob("airflow-*.txt")), ids=lambda p: p.stem)
def test_each_constraints_file_pins_the_airflow_it_is_named_for(pins):
    version = pins.stem.removeprefix("airflow-")
    lines = [line.strip() for line in pins.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert f"apache-airflow=={version}" in lines
    assert compat.version_tuple(version) >= (3, 0, 0)


def test_ci_tests_the_oldest_supported_airflow():
    oldest = min((p.stem.removeprefix("airflow-") for p in (REPO / "constraints").glob("airflow-*.txt")), key=compat.version_tuple)
    assert oldest.startswith("3.0.")
    ci_airflows = next(line for line in (REPO / "Makefile").read_text().splitlines() if line.startswith("CI_AIRFLOWS"))
    assert oldest in ci_airflows.split()
    assert "make test-airflows" in (REPO / ".ci" / "run").read_text()
