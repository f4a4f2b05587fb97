"""The Airflow plugin that registers the listener.

Declared as an ``airflow.plugins`` entry point (pyproject.toml): Airflow loads those in every
component, whereas plugins named in provider info load only with ``lazy_discover_providers``
off.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_flyte.stopping import listener


class FlyteStoppingPlugin(AirflowPlugin):
    name = "airflow_provider_flyte_stopping"
    listeners = [listener]
