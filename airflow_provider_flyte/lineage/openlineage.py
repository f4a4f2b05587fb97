"""What a FlyteOperator tells the OpenLineage provider, and what it tells Flyte in return.

Airflow's OpenLineage listener calls the operator's ``get_openlineage_facets_on_*`` methods in
the task's process after it ran (a deferrable task resumes on a worker, so these run for it too).
They describe the Flyte entity (a job facet), the execution (a run facet) and the files,
directories and structured datasets the execution read and wrote, named as the OpenLineage
naming spec names storage. In the other direction, the execution gets the Airflow task's lineage
run as its parent, in the environment variables OpenLineage integrations read
(``OPENLINEAGE_PARENT_ID``, ``OPENLINEAGE_ROOT_PARENT_ID``, ``OPENLINEAGE_CONTEXT``), so lineage
that Flyte tasks emit hangs under the Airflow run (docs/lineage.md).
"""

from __future__ import annotations

import importlib.util
import json
import logging
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.lineage.datasets import DataRef, data_refs, openlineage_name
from airflow_provider_flyte.lineage.entity import FlyteEntity

if TYPE_CHECKING:
    from airflow_provider_flyte.hooks.flyte import FlyteHook
    from airflow_provider_flyte.phases import ExecutionState

log = logging.getLogger(__name__)


def enabled() -> bool:
    """The OpenLineage provider is installed and not switched off."""
    if importlib.util.find_spec("airflow.providers.openlineage") is None:
        return False
    from airflow.providers.openlineage import conf

    return not conf.is_disabled()


def parent_run_env(ti: Any) -> dict[str, str]:
    """The Airflow task's lineage run, for the Flyte execution's environment; empty when
    OpenLineage is not in use."""
    if not enabled():
        return {}
    from airflow.providers.openlineage.plugins import macros

    try:
        parent = (macros.lineage_job_namespace(), macros.lineage_job_name(ti), macros.lineage_run_id(ti))
        root = (macros.lineage_root_job_namespace(ti), macros.lineage_root_job_name(ti), macros.lineage_root_run_id(ti))
    except Exception:  # lineage describes the work; it never stops it from being launched
        log.warning("Could not name the Airflow task's OpenLineage run; the Flyte execution gets no parent", exc_info=True)
        return {}
    context = {
        "parent": {
            "job": {"namespace": parent[0], "name": parent[1]},
            "run": {"runId": parent[2]},
            "root": {"job": {"namespace": root[0], "name": root[1]}, "run": {"runId": root[2]}},
        }
    }
    return {
        "OPENLINEAGE_PARENT_ID": "/".join(parent),
        "OPENLINEAGE_ROOT_PARENT_ID": "/".join(root),
        "OPENLINEAGE_CONTEXT": json.dumps(context, separators=(",", ":")),
    }


def on_start(entity: FlyteEntity) -> Any:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_flyte.lineage.facets import FlyteEntityJobFacet

    return OperatorLineage(job_facets={"flyte_entity": _job_facet(FlyteEntityJobFacet, entity)})


def on_end(hook: FlyteHook, entity: FlyteEntity, state: ExecutionState | None) -> Any:
    """The whole picture once the task ended: without an execution (it failed before launching),
    the entity alone."""
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_flyte.lineage.facets import FlyteEntityJobFacet, FlyteExecutionRunFacet

    if state is None:
        return on_start(entity)
    entity = hook.execution_entity(state.project, state.domain, state.name)
    inputs, outputs = hook.execution_data(state.project, state.domain, state.name)
    run = FlyteExecutionRunFacet(
        project=state.project, domain=state.domain, name=state.name, entity_kind=entity.kind,
        entity_name=entity.name, entity_version=entity.version, console_url=state.url, phase=state.phase,
        error_kind=state.error_kind, error_message=state.error_message, abort_cause=state.abort_cause,
    )
    return OperatorLineage(
        inputs=[_dataset("input", ref) for ref in data_refs(inputs)],
        outputs=[_dataset("output", ref) for ref in data_refs(outputs)],
        run_facets={"flyte_execution": run},
        job_facets={"flyte_entity": _job_facet(FlyteEntityJobFacet, entity)},
    )


def _job_facet(facet: Any, entity: FlyteEntity) -> Any:
    return facet(kind=entity.kind, project=entity.project, domain=entity.domain, name=entity.name, version=entity.version)


def _dataset(direction: str, ref: DataRef) -> Any:
    from airflow.providers.common.compat.openlineage.facet import (
        InputDataset,
        OutputDataset,
        SchemaDatasetFacet,
        SchemaDatasetFacetFields,
    )

    namespace, name = openlineage_name(ref.uri)
    facets: dict[str, Any] = {}
    if ref.columns:
        facets["schema"] = SchemaDatasetFacet(fields=[SchemaDatasetFacetFields(name=c, type=t) for c, t in ref.columns])
    cls = InputDataset if direction == "input" else OutputDataset
    return cls(namespace=namespace, name=name, facets=facets)
