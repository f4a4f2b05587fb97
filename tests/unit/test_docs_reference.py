"""The README's reference tables are checked against the code, so neither drifts from the other."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _section(title: str) -> str:
    start = README.index(title)
    return README[start : README.index("\n## ", start + 1)]


def _documented_names(section: str) -> set[str]:
    """The backquoted names in the first column of the section's table."""
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    return {name for cell in first_cells for name in re.findall(r"`([a-z_0-9]+)`", cell)}


def test_every_flyte_operator_argument_is_in_the_readme_and_nothing_else():
    from airflow_provider_flyte.operators.flyte import FlyteOperator

    arguments = {p for p in inspect.signature(FlyteOperator.__init__).parameters if p not in ("self", "kwargs")}
    assert _documented_names(_section("## FlyteOperator")) == arguments


def test_every_connection_extra_is_in_the_readme():
    from airflow_provider_flyte.provider_info import CONN_FIELDS

    documented = _documented_names(_section("## The `flyte` connection"))
    assert set(CONN_FIELDS) <= documented, set(CONN_FIELDS) - documented
