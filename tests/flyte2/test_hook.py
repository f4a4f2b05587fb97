"""Flyte2Hook against the local Flyte 2 run service over real Connect."""

from __future__ import annotations

import time

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError

from airflow_provider_flyte.exceptions import FlyteEntityNotFound, FlyteInputError
from airflow_provider_flyte.flyte2.hook import Flyte2Hook
from airflow_provider_flyte.flyte2.messages import RunOptions
from tests.conftest import DOMAIN, PROJECT
from tests.flyte2.conftest import run_names

SCALE = "provider.scale"


@pytest.fixture
def hook(flyte2_conn) -> Flyte2Hook:
    return Flyte2Hook(flyte2_conn)


def finished(hook: Flyte2Hook, name: str):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = hook.get_run("", PROJECT, DOMAIN, name)
        if state.is_terminal:
            return state
        time.sleep(0.1)
    raise AssertionError(f"run {name} did not finish")


def test_without_a_version_the_newest_deployed_one_is_used(hook, flyte2_service):
    task = hook.resolve_task("", PROJECT, DOMAIN, SCALE)

    assert task.task_id.version == flyte2_service.task(SCALE).task_id.version


def test_an_unknown_task_name_is_refused_naming_it(hook):
    with pytest.raises(FlyteEntityNotFound, match="No task named 'provider.nope' is deployed in flytesnacks/development"):
        hook.resolve_task("", PROJECT, DOMAIN, "provider.nope")


def test_an_unknown_version_is_refused_listing_the_deployed_ones(hook, flyte2_service):
    deployed = flyte2_service.task(SCALE).task_id.version

    with pytest.raises(FlyteEntityNotFound, match=f"version 'v0' is not deployed; its versions, newest first: '{deployed}'"):
        hook.resolve_task("", PROJECT, DOMAIN, SCALE, "v0")


def test_a_wrong_input_type_is_refused_before_any_run_exists(hook, flyte2_service):
    task = hook.resolve_task("", PROJECT, DOMAIN, SCALE)

    with pytest.raises(FlyteInputError, match=r"Input 'values' of task .*provider.scale@.* expects Flyte type list\[integer\], got \['x'\]"):
        hook.launch(task, "", PROJECT, DOMAIN, "hook-bad-type", {"values": ["x"]}, RunOptions())
    assert "hook-bad-type" not in run_names(flyte2_service)


def test_a_missing_input_is_refused_naming_it_and_its_type(hook, flyte2_service):
    task = hook.resolve_task("", PROJECT, DOMAIN, SCALE)

    with pytest.raises(FlyteInputError, match=r"requires input\(s\) 'values' \(list\[integer\]\), which were not given"):
        hook.launch(task, "", PROJECT, DOMAIN, "hook-missing", {"factor": 3.0}, RunOptions())
    assert "hook-missing" not in run_names(flyte2_service)


def test_an_unknown_input_is_refused_listing_the_expected_ones(hook):
    task = hook.resolve_task("", PROJECT, DOMAIN, SCALE)

    with pytest.raises(FlyteInputError, match=r"has no input 'valuez' .*expected inputs: \['factor', 'label', 'values'\]"):
        hook.launch(task, "", PROJECT, DOMAIN, "hook-unknown", {"valuez": [1]}, RunOptions())


def test_outputs_are_json_values_and_defaults_fill_inputs_left_out(hook):
    task = hook.resolve_task("", PROJECT, DOMAIN, SCALE)
    hook.launch(task, "", PROJECT, DOMAIN, "hook-outputs", {"values": [1, 2]}, RunOptions())

    assert finished(hook, "hook-outputs").phase == "SUCCEEDED"
    assert hook.get_outputs("", PROJECT, DOMAIN, "hook-outputs") == {"o0": {"scaled-0": 2.0, "scaled-1": 4.0}}


def test_creating_a_run_that_exists_adopts_it_instead_of_creating_another(hook, flyte2_service):
    task = hook.resolve_task("", PROJECT, DOMAIN, SCALE)
    first = hook.launch(task, "", PROJECT, DOMAIN, "hook-twice", {"values": [1]}, RunOptions(labels={"who": "first"}))

    again = hook.launch(task, "", PROJECT, DOMAIN, "hook-twice", {"values": [1]}, RunOptions(labels={"who": "second"}))

    assert again.name == first.name and again.labels == {"who": "first"}
    assert run_names(flyte2_service).count("hook-twice") == 1


def test_transient_faults_are_retried(hook, faults):
    hook.launch(hook.resolve_task("", PROJECT, DOMAIN, SCALE), "", PROJECT, DOMAIN, "hook-retried", {"values": [3]}, RunOptions())
    faults.fail_next(2, Code.UNAVAILABLE, method="GetRunDetails")

    assert hook.find_run("", PROJECT, DOMAIN, "hook-retried") is not None


def test_permanent_faults_are_not_retried(hook, faults):
    faults.fail_next(1, Code.PERMISSION_DENIED, method="GetRunDetails", message="not yours")

    with pytest.raises(ConnectError, match="not yours"):
        hook.find_run("", PROJECT, DOMAIN, "hook-denied")
    assert hook.find_run("", PROJECT, DOMAIN, "hook-denied") is None  # the next call is answered


def test_the_hook_never_aborts_a_finished_run_which_the_server_would_mark_aborted(hook, flyte2_service):
    # Asked directly, the service (as open-source Flyte 2) marks even a SUCCEEDED run ABORTED:
    # tests/local_flyte2/test_run_lifecycle.py. Only the hook's guard keeps this one SUCCEEDED.
    hook.launch(hook.resolve_task("", PROJECT, DOMAIN, SCALE), "", PROJECT, DOMAIN, "hook-ended", {"values": [1]}, RunOptions())
    finished(hook, "hook-ended")

    assert hook.abort("", PROJECT, DOMAIN, "hook-ended", "too late") is False
    assert hook.get_run("", PROJECT, DOMAIN, "hook-ended").phase == "SUCCEEDED"


def test_struct_outputs_with_bytes_become_json_values():
    import json

    import msgpack
    from flyteidl2.core import literals_pb2

    from airflow_provider_flyte.flyte2.literals import literal_to_json

    packed = msgpack.packb({"blob": b"\x00\xff", 7: [b"ok"]})
    literal = literals_pb2.Literal(scalar=literals_pb2.Scalar(binary=literals_pb2.Binary(value=packed, tag="msgpack")))

    value = literal_to_json(literal)

    assert value == {"blob": {"$base64": "AP8="}, "7": [{"$base64": "b2s="}]}
    assert json.loads(json.dumps(value)) == value


def test_aborting_a_running_run_records_the_reason(hook, flyte2_service):
    task = hook.resolve_task("", PROJECT, DOMAIN, "provider.nap")
    hook.launch(task, "", PROJECT, DOMAIN, "hook-abort", {"seconds": 30.0}, RunOptions())
    flyte2_service.wait_for_phase("hook-abort", {"RUNNING"}, timeout=30)

    assert hook.abort("", PROJECT, DOMAIN, "hook-abort", "stopped from the hook") is True
    state = finished(hook, "hook-abort")
    assert state.phase == "ABORTED" and state.abort_cause == "stopped from the hook"


def test_test_connection_says_what_it_reached(hook, flyte2_service):
    assert hook.test_connection() == (True, f"Connected to Flyte 2 at {flyte2_service.url}")


def test_test_connection_reports_an_endpoint_nobody_listens_on(monkeypatch):
    import json

    monkeypatch.setenv("AIRFLOW_CONN_FLYTE2_NOWHERE", json.dumps({"conn_type": "flyte2", "host": "127.0.0.1", "port": 9, "extra": {"insecure": True}}))

    ok, message = Flyte2Hook("flyte2_nowhere").test_connection()

    assert not ok and message.startswith("Could not reach Flyte 2 at http://127.0.0.1:9: UNAVAILABLE")
