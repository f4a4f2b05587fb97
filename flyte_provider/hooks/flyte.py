"""Deprecated: ``from airflow_provider_flyte.hooks.flyte import FlyteHook``."""

from __future__ import annotations

from airflow_provider_flyte.hooks.flyte import FlyteHook
from flyte_provider import moved

moved("flyte_provider.hooks.flyte", "airflow_provider_flyte.hooks.flyte")

__all__ = ["FlyteHook"]
