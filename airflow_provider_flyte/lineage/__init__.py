"""Lineage both ways between Airflow and Flyte.

``datasets`` finds the data an execution read and wrote in its typed values (pure, no Airflow);
``openlineage`` turns that into OpenLineage datasets and facets for the OpenLineage provider and
hands the Airflow task's lineage run to Flyte as the parent; ``assets`` is the ``flyte://`` asset
scheme and what a ``FlyteOperator``'s asset events carry. The event trigger for asset watchers is
``triggers/events.py``. Importing any of these is cheap: flyteidl and the OpenLineage client load
inside the functions that need them.
"""
