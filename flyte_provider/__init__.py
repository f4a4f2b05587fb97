"""airflow-provider-flyte 0.0.5's import path, kept so DAG files written for it run unchanged.

``flyte_provider.operators.flyte``, ``flyte_provider.sensors.flyte`` and
``flyte_provider.hooks.flyte`` re-export the classes of ``airflow_provider_flyte`` and warn that
the path is deprecated. Nothing else lives here.
"""

from __future__ import annotations

import warnings


def moved(old: str, new: str) -> None:
    warnings.warn(
        f"{old} is airflow-provider-flyte 0.0.5's import path; import from {new} instead "
        "(the classes are the same; this alias will be removed in 2.0)",
        DeprecationWarning,
        stacklevel=3,
    )
