"""Registering a changed file again serves and runs the new code at a new version."""

from __future__ import annotations

import uuid
from pathlib import Path

from flyteidl.admin import execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2

from airflow_provider_flyte.local_admin.modules import content_version
from tests.local_admin.conftest import DOMAIN, PROJECT, execution_id, unique_name

MODULE = '''
from flytekit import task, workflow

@task
def answer() -> int:
    return {value}

@workflow
def answer_wf() -> int:
    return answer()
'''


def _run(stub, admin, module: str, version: str) -> int:
    name = unique_name()
    launch_plan = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain=DOMAIN,
        name=f"{module}.answer_wf", version=version,
    )
    request = execution_pb2.ExecutionCreateRequest(
        project=PROJECT, domain=DOMAIN, name=name, spec=execution_pb2.ExecutionSpec(launch_plan=launch_plan)
    )
    stub.CreateExecution(request)
    admin.wait_for_phase(name, {core_execution_pb2.WorkflowExecution.SUCCEEDED}, timeout=30)
    data = stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id(name)))
    return data.full_outputs.literals["o0"].scalar.primitive.integer


def test_a_changed_module_runs_its_new_code_at_the_new_version(stub, admin, tmp_path: Path):
    module = "answers_" + uuid.uuid4().hex[:8]
    path = tmp_path / f"{module}.py"
    path.write_text(MODULE.format(value=1))
    admin.register_module(path)
    first = content_version(path)
    assert _run(stub, admin, module, first) == 1
    path.write_text(MODULE.format(value=2))
    admin.register_module(path)
    assert _run(stub, admin, module, content_version(path)) == 2


def test_an_old_version_whose_code_is_gone_fails_instead_of_running_new_code(stub, admin, tmp_path: Path):
    module = "answers_" + uuid.uuid4().hex[:8]
    path = tmp_path / f"{module}.py"
    path.write_text(MODULE.format(value=1))
    admin.register_module(path)
    old = content_version(path)
    path.write_text(MODULE.format(value=2))
    admin.register_module(path)
    name = unique_name()
    launch_plan = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain=DOMAIN, name=f"{module}.answer_wf", version=old
    )
    stub.CreateExecution(execution_pb2.ExecutionCreateRequest(
        project=PROJECT, domain=DOMAIN, name=name, spec=execution_pb2.ExecutionSpec(launch_plan=launch_plan)
    ))

    failed = admin.wait_for_phase(name, {core_execution_pb2.WorkflowExecution.FAILED}, timeout=30)

    assert failed.closure.error.kind == core_execution_pb2.ExecutionError.SYSTEM
    assert old in failed.closure.error.message and "no longer on disk" in failed.closure.error.message
