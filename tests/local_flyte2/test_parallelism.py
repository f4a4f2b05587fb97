"""At most `parallelism` runs execute at once; the others wait QUEUED, and can be aborted there."""

from __future__ import annotations

import time

from flyteidl2.workflow import run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClientSync

from airflow_provider_flyte.local_flyte2 import LocalFlyte2Service
from tests.local_flyte2.conftest import TASKS, create_request, floating, inputs, run_id


def test_a_run_past_the_parallelism_waits_queued_until_a_slot_frees():
    with LocalFlyte2Service(tasks=[TASKS / "slow.py"], parallelism=1) as service:
        with RunServiceClientSync(service.url, timeout_ms=10_000) as runs:
            runs.create_run(create_request(service, "first", "slow.sleep", inputs(seconds=floating(60))))
            runs.create_run(create_request(service, "second", "slow.sleep", inputs(seconds=floating(0))))
            service.wait_for_phase("first", {"RUNNING"})
            time.sleep(0.5)
            assert service.run("second").phase == "QUEUED"
            runs.abort_run(run_service_pb2.AbortRunRequest(run_id=run_id("first"), reason="make room"))
            assert service.wait_for_phase("second", timeout=30).phase == "SUCCEEDED"


def test_parallelism_zero_holds_every_run_queued_and_an_abort_ends_it_at_once():
    with LocalFlyte2Service(tasks=[TASKS / "slow.py"], parallelism=0) as service:
        with RunServiceClientSync(service.url, timeout_ms=10_000) as runs:
            runs.create_run(create_request(service, "held", "slow.sleep", inputs(seconds=floating(0))))
            time.sleep(0.5)
            assert service.run("held").phase == "QUEUED" and service.run("held").pid is None
            runs.abort_run(run_service_pb2.AbortRunRequest(run_id=run_id("held"), reason="never mind"))
            view = service.wait_for_phase("held", timeout=5)
    assert (view.phase, view.abort_reason) == ("ABORTED", "never mind")
