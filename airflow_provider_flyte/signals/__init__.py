"""Flyte gate nodes seen and answered from Airflow.

A Flyte workflow pauses on a gate node: ``approve()`` waits for a yes/no signal,
``wait_for_input()`` for a typed value. ``pending``: which signals an execution waits for, and on
which node (read from FlyteAdmin's SignalService and the workflow's gate nodes). The hook reads
and sets them (``FlyteHook.pending_signals``, ``FlyteHook.set_signal``); ``FlyteSignalSensor``
waits for one; ``FlyteSignalOperator`` answers one, typically with the decision of an Airflow
human-in-the-loop task. See docs/human-in-the-loop.md.
"""
