"""Deprecated: ``from airflow_provider_flyte.operators.flyte import FlyteOperator``."""

from __future__ import annotations

from airflow_provider_flyte.operators.flyte import FlyteOperator
from flyte_provider import moved

moved("flyte_provider.operators.flyte", "airflow_provider_flyte.operators.flyte")

__all__ = ["FlyteOperator"]
