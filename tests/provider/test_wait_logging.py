"""What a wait tells the task log: each phase once, a sign of life every few minutes, links that work."""

from __future__ import annotations

import re

import pytest

from airflow_provider_flyte import waiting
from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger, FlyteTriggerEvent
from tests.airflow_runs import run_dag
from tests.provider.dags import launch_directly, single_launch_dag

P, D = "flytesnacks", "development"


def test_a_blocking_wait_logs_each_phase_once_and_the_ending_once(airflow_db, flyte_conn, capfd):
    run = run_dag(single_launch_dag("log_phases_once", "simple.sleepy_wf", {"seconds": 2.0}, poll_interval=0.2,
                                    execution_name="log-phases-once"))

    assert run.state == "success"
    log = "".join(capfd.readouterr())
    assert log.count("development/log-phases-once is RUNNING") == 1
    assert log.count("development/log-phases-once is SUCCEEDED") == 1


def test_a_long_blocking_wait_says_it_is_alive(airflow_db, flyte_conn, capfd, monkeypatch):
    monkeypatch.setattr(waiting, "PROGRESS_EVERY", 1.0)

    run_dag(single_launch_dag("log_progress", "simple.sleepy_wf", {"seconds": 4.0}, poll_interval=0.3,
                              execution_name="log-progress"))

    assert re.search(r"log-progress is RUNNING, still, after 0m0\ds of waiting - console: http\S+(\s|$)",
                     "".join(capfd.readouterr()), re.MULTILINE)


@pytest.mark.asyncio
async def test_a_deferred_wait_logs_phase_changes_and_signs_of_life(flyte_conn, flyte_admin, capfd, monkeypatch):
    monkeypatch.setattr(waiting, "PROGRESS_EVERY", 1.0)
    import airflow_provider_flyte.triggers.flyte as trigger_module

    monkeypatch.setattr(trigger_module, "PROGRESS_EVERY", 1.0)
    name = launch_directly("trigger-progress", "simple.sleepy_wf", {"seconds": 4.0})

    async for event in FlyteExecutionTrigger("flyte_conn", P, D, name).run():
        assert FlyteTriggerEvent.parse(event.payload).state.phase == "SUCCEEDED"
        break

    log = "".join(capfd.readouterr())
    assert log.count("trigger-progress is RUNNING - console") == 1
    assert "trigger-progress is RUNNING, still, after" in log


def test_console_links_end_their_line_so_log_viewers_link_them_whole(airflow_db, flyte_conn, capfd):
    run_dag(single_launch_dag("log_links", "simple.double_wf", {"x": 1}, execution_name="log-links"))

    lines = [line for line in "".join(capfd.readouterr()).splitlines() if "/executions/log-links" in line]
    assert lines and all(re.search(r"/executions/log-links(\s|$)", line) for line in lines)
    assert not any("/executions/log-links)" in line for line in lines)
