"""docs/flyte2.md's reference tables are checked against the code, so neither drifts."""

from __future__ import annotations

import inspect
import re

from tests.conftest import REPO

GUIDE = (REPO / "docs" / "flyte2.md").read_text()


def _table_names(title: str) -> set[str]:
    start = GUIDE.index(title)
    section = GUIDE[start : GUIDE.index("\n## ", start + 1)]
    cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    return {name for cell in cells for name in re.findall(r"`([a-z_0-9]+)`", cell)}


def test_every_operator_argument_is_documented_and_nothing_else():
    from airflow_provider_flyte.flyte2.operator import Flyte2Operator

    arguments = {p for p in inspect.signature(Flyte2Operator.__init__).parameters if p not in ("self", "kwargs")}

    assert _table_names("## Flyte2Operator") == arguments


def test_every_connection_field_is_documented():
    from airflow_provider_flyte.provider_info import FLYTE2_CONN_FIELDS

    assert set(FLYTE2_CONN_FIELDS) <= _table_names("## The `flyte2` connection")
