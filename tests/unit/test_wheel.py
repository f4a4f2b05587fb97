"""The wheel `make dist` builds is what the README tells users to install."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )
    (built,) = out.glob("airflow_provider_flyte-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_is_version_1_0_0_dev0_for_every_airflow_3(wheel):
    metadata = next(n for n in wheel.namelist() if n.endswith("METADATA"))
    text = wheel.read(metadata).decode()
    assert "Version: 1.0.0.dev0" in text and "Requires-Dist: apache-airflow<4,>=3.0" in text


def test_the_wheel_carries_the_provider_and_the_0_0_5_alias(wheel):
    names = set(wheel.namelist())
    assert {"airflow_provider_flyte/operators/flyte.py", "flyte_provider/operators/flyte.py",
            "flyte_provider/sensors/flyte.py"} <= names


def test_the_wheel_registers_the_provider_the_stopping_plugin_and_the_local_admin(wheel):
    entry_points = wheel.read(next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))).decode()
    assert "provider_info = airflow_provider_flyte:get_provider_info" in entry_points
    assert "flyte_stopping = airflow_provider_flyte.stopping.plugin:FlyteStoppingPlugin" in entry_points
    assert "flyte-local-admin = airflow_provider_flyte.local_admin.cli:main" in entry_points
