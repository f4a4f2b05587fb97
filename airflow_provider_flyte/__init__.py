"""Apache Airflow provider for Flyte.

Airflow imports this package in every process to read the provider info, so it must stay
cheap: nothing here (or in hooks/operators/sensors/triggers/links at import time) may load
flytekit, flyteidl or grpc.
"""

from __future__ import annotations

from airflow_provider_flyte.provider_info import get_provider_info

__version__ = "1.0.0.dev0"

__all__ = ["__version__", "get_provider_info"]
