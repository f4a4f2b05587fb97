"""The adaptive poll schedule shared by operator, sensor and trigger."""

from __future__ import annotations

import pytest

from airflow_provider_flyte.polling import MAX_INTERVAL, PollPolicy


def test_polls_soon_after_launch():
    assert PollPolicy().interval(0) <= 1.0


def test_backs_off_as_the_wait_grows():
    policy = PollPolicy()
    assert policy.interval(0) < policy.interval(10) < policy.interval(40)


def test_never_exceeds_the_ceiling():
    assert PollPolicy().interval(86_400) == MAX_INTERVAL


def test_a_day_long_wait_costs_a_few_polls_a_minute():
    policy, waited, polls = PollPolicy(), 0.0, 0
    while waited < 86_400:
        waited += policy.interval(waited)
        polls += 1
    assert polls / (86_400 / 60) <= 2.1


def test_a_fixed_interval_overrides_the_schedule():
    assert PollPolicy(fixed=7).interval(0) == PollPolicy(fixed=7).interval(1000) == 7


def test_non_positive_fixed_interval_is_refused():
    with pytest.raises(ValueError, match="poll_interval"):
        PollPolicy(fixed=0)


def test_watched_waits_are_polled_every_few_seconds_however_long_they_run():
    from airflow_provider_flyte.polling import WATCHED_MAX_INTERVAL

    policy = PollPolicy(ceiling=WATCHED_MAX_INTERVAL)
    assert policy.interval(0) == 1.0 and policy.interval(86_400) == WATCHED_MAX_INTERVAL <= 5


def test_a_rescheduled_sensor_never_pokes_sooner_than_a_scheduler_can_settle_the_last_poke():
    from airflow_provider_flyte.polling import RESCHEDULE_MIN_INTERVAL
    from airflow_provider_flyte.sensors.flyte import FlyteSensor

    sensor = FlyteSensor(task_id="watch", execution_name="e", mode="reschedule")
    intervals = [sensor._get_next_poke_interval(0.0, lambda waited=w: waited, n) for n, w in enumerate((0, 5, 60))]
    assert min(intervals) >= RESCHEDULE_MIN_INTERVAL


def test_a_poking_sensor_still_polls_soon_after_it_starts():
    from airflow_provider_flyte.sensors.flyte import FlyteSensor

    sensor = FlyteSensor(task_id="watch", execution_name="e")
    assert sensor._get_next_poke_interval(0.0, lambda: 0.0, 0) <= 1.0
