"""OpenLineage facets describing Flyte: imported only when lineage is emitted (needs the
OpenLineage client, which the ``openlineage`` extra installs)."""

from __future__ import annotations

import attr
from openlineage.client.generated.base import JobFacet, RunFacet

_SCHEMAS = "https://github.com/flyteorg/airflow-provider-flyte/blob/main/docs/lineage.md"


@attr.define
class FlyteExecutionRunFacet(RunFacet):
    """The Flyte execution an Airflow task ran: where to find it and how it ended."""

    project: str
    domain: str
    name: str
    entity_kind: str  # "launch_plan" or "task"
    entity_name: str
    entity_version: str
    console_url: str
    phase: str
    error_kind: str = ""
    error_message: str = ""
    abort_cause: str = ""

    @staticmethod
    def _get_schema() -> str:
        return f"{_SCHEMAS}#flyteexecutionrunfacet"


@attr.define
class FlyteEntityJobFacet(JobFacet):
    """The Flyte launch plan or task an Airflow task launches."""

    kind: str
    project: str
    domain: str
    name: str
    version: str = ""

    @staticmethod
    def _get_schema() -> str:
        return f"{_SCHEMAS}#flyteentityjobfacet"
