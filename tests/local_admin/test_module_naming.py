"""Module names, hence entity names, are derived the way pyflyte derives them."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_flyte.local_admin.modules import content_version, locate_module


def test_file_outside_a_package_is_a_top_level_module(tmp_path: Path):
    (tmp_path / "flows.py").write_text("")
    location = locate_module(tmp_path / "flows.py")
    assert (location.import_root, location.module_name) == (str(tmp_path), "flows")


def test_file_inside_packages_is_named_from_the_first_directory_without_init(tmp_path: Path):
    package = tmp_path / "pkg" / "sub"
    package.mkdir(parents=True)
    for directory in (tmp_path / "pkg", package):
        (directory / "__init__.py").write_text("")
    (package / "flows.py").write_text("")
    location = locate_module(package / "flows.py")
    assert (location.import_root, location.module_name) == (str(tmp_path), "pkg.sub.flows")


def test_version_changes_with_content(tmp_path: Path):
    flows = tmp_path / "flows.py"
    flows.write_text("a = 1\n")
    before = content_version(flows)
    flows.write_text("a = 2\n")
    assert content_version(flows) != before


def test_a_folder_gives_its_python_files_that_use_flytekit_so_a_dag_folder_loads_at_once():
    from airflow_provider_flyte.local_admin.modules import workflow_files
    from tests.conftest import REPO

    found = workflow_files([REPO / "example_dags"])

    assert [f.relative_to(REPO / "example_dags").as_posix() for f in found] == [
        "flyte_workflows/approval_workflow.py",
        "flyte_workflows/ml_workflow.py",
        "flyte_workflows/publish_workflow.py",
    ]


def test_the_cli_loads_the_whole_example_folder(tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO

    admin = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_flyte.local_admin.cli", "--port", "0", "--no-console",
         "--workflows", str(REPO / "example_dags")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert admin.stdout is not None
        assert admin.stdout.readline().startswith("FlyteAdmin listening on")
    finally:
        admin.terminate()
        admin.wait(30)
