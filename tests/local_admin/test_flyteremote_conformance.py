"""flytekit's own client works against the local admin unchanged."""

from __future__ import annotations

from datetime import timedelta

from flytekit.configuration import Config, PlatformConfig
from flytekit.remote import FlyteRemote

from tests.local_admin.conftest import DOMAIN, PROJECT, VERSION, unique_name


def test_flyteremote_fetches_executes_waits_and_reads_outputs(admin):
    remote = FlyteRemote(
        Config(platform=PlatformConfig(endpoint=admin.endpoint, insecure=True)),
        default_project=PROJECT,
        default_domain=DOMAIN,
    )
    launch_plan = remote.fetch_launch_plan(name="simple.double_wf", version=VERSION)
    execution = remote.execute(launch_plan, inputs={"x": 3}, execution_name=unique_name())
    # execute(wait=True) polls every 30 s; the same wait with a short interval keeps the test quick.
    finished = remote.wait(execution, poll_interval=timedelta(milliseconds=100), timeout=timedelta(seconds=30))
    assert finished.closure.phase == 4  # SUCCEEDED
    assert finished.outputs["o0"] == 6


def test_flyteremote_finds_the_latest_version_without_one(admin):
    remote = FlyteRemote(
        Config(platform=PlatformConfig(endpoint=admin.endpoint, insecure=True)),
        default_project=PROJECT,
        default_domain=DOMAIN,
    )
    assert remote.fetch_launch_plan(name="simple.double_fixed").id.version == VERSION


def test_flyteremote_terminates_a_running_execution(admin):
    remote = FlyteRemote(
        Config(platform=PlatformConfig(endpoint=admin.endpoint, insecure=True)),
        default_project=PROJECT,
        default_domain=DOMAIN,
    )
    launch_plan = remote.fetch_launch_plan(name="simple.sleepy_wf", version=VERSION)
    execution = remote.execute(launch_plan, inputs={"seconds": 60.0}, execution_name=unique_name())
    remote.terminate(execution, cause="conformance")
    assert admin.wait_for_phase(execution.id.name, {7}, timeout=10).closure.abort_metadata.cause == "conformance"


def test_flyteremote_recovers_a_failed_execution(admin):
    remote = FlyteRemote(
        Config(platform=PlatformConfig(endpoint=admin.endpoint, insecure=True)),
        default_project=PROJECT,
        default_domain=DOMAIN,
    )
    launch_plan = remote.fetch_launch_plan(name="simple.failing_wf", version=VERSION)
    failed = remote.execute(launch_plan, inputs={"message": "once"}, execution_name=unique_name())
    remote.wait(failed, poll_interval=timedelta(milliseconds=100), timeout=timedelta(seconds=30))
    # FlyteRemote has no recover(); its client's recover_execution is flytekit's way to recover.
    recovered = remote.client.recover_execution(failed.id)
    assert recovered.name != failed.id.name
    assert admin.get_execution(recovered.name).spec.metadata.reference_execution.name == failed.id.name
