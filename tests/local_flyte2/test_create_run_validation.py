"""CreateRun refuses, with the real service's Connect codes, what would not make a runnable run."""

from __future__ import annotations

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from flyteidl2.common import identifier_pb2
from flyteidl2.workflow import run_service_pb2

from tests.local_flyte2.conftest import (
    DOMAIN,
    PROJECT,
    create_request,
    floating,
    inputs,
    integer,
    run_id,
    string,
    task_id,
)


def _refused(runs, request) -> ConnectError:
    with pytest.raises(ConnectError) as raised:
        runs.create_run(request)
    return raised.value


def test_an_unknown_task_is_not_found(service, runs):
    request = run_service_pb2.CreateRunRequest(
        run_id=run_id("unknown-task"), task_id=task_id(service, "arithmetic.subtract", "v1"), inputs=inputs(x=integer(1))
    )
    error = _refused(runs, request)
    assert error.code == Code.NOT_FOUND
    assert "arithmetic.subtract" in error.message


def test_an_unknown_version_of_a_known_task_is_not_found(service, runs):
    request = run_service_pb2.CreateRunRequest(
        run_id=run_id("unknown-version"), task_id=task_id(service, "arithmetic.add", "0000"), inputs=inputs(x=integer(1))
    )
    error = _refused(runs, request)
    assert error.code == Code.NOT_FOUND
    assert "Version:0000" in error.message


def test_an_unknown_project_is_not_found(service, runs):
    request = create_request(service, "unknown-project", "arithmetic.add", inputs(x=integer(1)))
    request.run_id.project = "elsewhere"
    error = _refused(runs, request)
    assert error.code == Code.NOT_FOUND
    assert error.message == 'project "elsewhere" not found'


def test_an_input_of_the_wrong_type_is_an_invalid_argument_naming_it(service, runs):
    error = _refused(runs, create_request(service, "wrong-type", "arithmetic.add", inputs(x=string("two"))))
    assert error.code == Code.INVALID_ARGUMENT
    assert error.message == 'invalid input "x": expected INTEGER, got a string_value value'


def test_a_float_for_an_integer_is_the_wrong_type_too(service, runs):
    error = _refused(runs, create_request(service, "float-for-int", "arithmetic.add", inputs(x=floating(2.0))))
    assert error.code == Code.INVALID_ARGUMENT
    assert '"x"' in error.message


def test_a_missing_required_input_is_an_invalid_argument_naming_it(service, runs):
    error = _refused(runs, create_request(service, "missing-input", "arithmetic.add", inputs(y=integer(2))))
    assert error.code == Code.INVALID_ARGUMENT
    assert error.message == 'missing required input "x"'


def test_an_input_the_task_does_not_have_is_an_invalid_argument(service, runs):
    error = _refused(runs, create_request(service, "extra-input", "arithmetic.add", inputs(x=integer(1), z=integer(3))))
    assert error.code == Code.INVALID_ARGUMENT
    assert error.message.startswith('invalid input "z": the task has no such input')


def test_a_run_name_over_30_characters_is_an_invalid_argument(service, runs):
    name = "a" * 31
    error = _refused(runs, create_request(service, name, "arithmetic.add", inputs(x=integer(1))))
    assert error.code == Code.INVALID_ARGUMENT
    assert error.message == f'invalid run name "{name}": must be no more than 30 characters'


@pytest.mark.parametrize("name", ["Upper", "1starts-with-digit", "ends-with-dash-", "under_score", ""])
def test_a_run_name_that_is_not_a_dns_label_is_an_invalid_argument(service, runs, name):
    error = _refused(runs, create_request(service, name, "arithmetic.add", inputs(x=integer(1))))
    assert error.code == Code.INVALID_ARGUMENT
    assert error.message.startswith(f'invalid run name "{name}": a DNS-1035 label must consist of lower case')


def test_a_run_name_taken_in_the_project_already_exists(service, runs):
    runs.create_run(create_request(service, "taken", "arithmetic.add", inputs(x=integer(1))))
    error = _refused(runs, create_request(service, "taken", "arithmetic.add", inputs(x=integer(2))))
    assert error.code == Code.ALREADY_EXISTS
    assert error.message == f"run already exists: {PROJECT}/{DOMAIN}/taken"


def test_a_run_with_only_a_project_gets_a_generated_name(service, runs):
    request = run_service_pb2.CreateRunRequest(
        project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
        task_id=task_id(service, "arithmetic.add"),
        inputs=inputs(x=integer(1)),
    )
    name = runs.create_run(request).run.action.id.run.name
    assert len(name) == 20 and name.startswith("r")
