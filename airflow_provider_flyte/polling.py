"""When to ask FlyteAdmin again: one policy for the operator, the sensor and the trigger.

A fixed interval is either slow to notice short executions or chatty on long ones. The
adaptive schedule polls soon after launch and backs off geometrically towards a ceiling, so a
two-second execution is seen within about a second of finishing and a day-long one costs two
calls a minute. In the triggerer, where one batched call serves every wait, the ceiling is lower.
"""

from __future__ import annotations

from dataclasses import dataclass

INITIAL_INTERVAL = 1.0
BACKOFF_FACTOR = 1.5
MAX_INTERVAL = 30.0
# In the triggerer one batched ListExecutions serves every wait of a connection, so polling each
# execution often costs almost nothing: the adaptive schedule tops out here instead, and an
# abort, failure or success in Flyte reaches Airflow within seconds even on day-long waits.
WATCHED_MAX_INTERVAL = 5.0
# A sensor in reschedule mode gives its worker slot back between pokes, and each poke is a new
# worker process of the same try. Airflow 3 fails that try as "state changed externally" when the
# scheduler reads the previous poke's exit only after the next poke was queued, which under load
# is seconds later. So its adaptive schedule starts here: no poke comes sooner than a scheduler can
# settle the last one, and starting a process per poke costs more than a poll anyway.
RESCHEDULE_MIN_INTERVAL = 20.0


@dataclass(frozen=True)
class PollPolicy:
    """``fixed`` set means a constant interval; otherwise adaptive from ``initial`` to ``ceiling``."""

    fixed: float | None = None
    initial: float = INITIAL_INTERVAL
    factor: float = BACKOFF_FACTOR
    ceiling: float = MAX_INTERVAL

    def __post_init__(self) -> None:
        if self.fixed is not None and self.fixed <= 0:
            raise ValueError(f"poll_interval must be a positive number of seconds, got {self.fixed!r}")

    def interval(self, waited: float) -> float:
        """Seconds until the next poll, given how long we have been waiting so far.

        Depending only on the elapsed time (not on a poll counter) lets a rescheduled sensor or a
        restarted trigger pick the schedule up where it was: polls at ``initial * factor**n``
        spacing satisfy ``next = initial + (factor - 1) * waited``.
        """
        if self.fixed is not None:
            return self.fixed
        return min(self.ceiling, self.initial + (self.factor - 1) * max(0.0, waited))
