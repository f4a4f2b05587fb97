"""Airflow reacting to Flyte: events for asset watchers when Flyte executions finish.

``query``: which executions count (launch plan, labels, phases, Airflow's own or not) and the
ListExecutions that finds them. ``cursor``: how far the feed got, stored between triggerer runs.
``feed``: one poll, turning newly finished executions into event payloads in order. ``payload``:
the event a DAG receives, and its validation. ``stream``: the polling loop with its stored
cursor, as Airflow 3.3's acknowledged shared stream and as a plain trigger loop before it. The
trigger that users put in ``AssetWatcher`` is ``triggers.events.FlyteExecutionEventTrigger``.
"""
