"""Deprecated: ``from airflow_provider_flyte.sensors.flyte import FlyteSensor``."""

from __future__ import annotations

from airflow_provider_flyte.sensors.flyte import FlyteSensor
from flyte_provider import moved

moved("flyte_provider.sensors.flyte", "airflow_provider_flyte.sensors.flyte")

__all__ = ["FlyteSensor"]
