"""Airflow assets and Flyte: the ``flyte://`` scheme and what a FlyteOperator's asset events carry.

``flyte://<project>/<domain>/<launch plan or task>`` names a Flyte entity's results as an Airflow
asset: registered in provider info (``asset-uris``), so Airflow normalises and validates it like
other providers' schemes and the OpenLineage provider maps it to a dataset (namespace
``flyte://<project>``, name ``<domain>/<entity>``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult

from airflow_provider_flyte.phases import ExecutionState

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Airflow's hook for the scheme: refuse what cannot name a Flyte entity, saying why."""
    segments = [s for s in uri.path.split("/") if s]
    if not uri.netloc or len(segments) != 2:
        raise ValueError(
            f"A flyte asset URI is flyte://<project>/<domain>/<launch plan or task>, got {uri.geturl()!r}"
        )
    for what, value in zip(("project", "domain", "entity name"), [uri.netloc, *segments], strict=True):
        if not _IDENTIFIER.match(value):
            raise ValueError(f"flyte asset URI {uri.geturl()!r}: {what} {value!r} is not a Flyte identifier")
    return uri._replace(path="/" + "/".join(segments), query="", fragment="")


def convert_asset_to_openlineage(asset: Any, lineage_context: Any) -> Any:
    """The OpenLineage dataset an ``Asset("flyte://...")`` stands for."""
    from urllib.parse import urlsplit

    from airflow.providers.common.compat.openlineage.facet import Dataset

    parts = urlsplit(asset.uri)
    return Dataset(namespace=f"flyte://{parts.netloc}", name=parts.path.strip("/"))


def outlet_extra(state: ExecutionState, outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The ``extra`` of each asset event a FlyteOperator emits: which execution made the data, and
    the outputs its ``outlet_outputs`` names (files and datasets as URIs)."""
    return {
        "flyte_execution": state.name,
        "flyte_project": state.project,
        "flyte_domain": state.domain,
        "flyte_phase": state.phase,
        "flyte_console_url": state.url,
        "outputs": dict(outputs),
    }
