"""Executions belong to the admin, not to the client: terminate kills the whole process tree,
and a client that goes away does not take its execution with it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import grpc
from flyteidl.admin import execution_pb2
from flyteidl.core.execution_pb2 import WorkflowExecution
from flyteidl.service.admin_pb2_grpc import AdminServiceStub

from airflow_provider_flyte.local_admin.modules import content_version
from tests.local_admin.conftest import create_request, execution_id, launch_plan_id, literal

PROCESSES = Path(__file__).resolve().parents[1] / "workflows" / "processes.py"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting for its parent counts as gone
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_terminate_kills_processes_the_task_started(admin, stub, tmp_path):
    admin.register_module(PROCESSES)
    pid_file = tmp_path / "child.pid"
    request = create_request("processes.spawning_wf", {"pid_file": literal(str(pid_file))})
    request.spec.launch_plan.CopyFrom(launch_plan_id("processes.spawning_wf", content_version(PROCESSES)))
    stub.CreateExecution(request)
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    assert alive(grandchild)

    stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=execution_id(request.name), cause="stop"))

    admin.wait_for_phase(request.name, {WorkflowExecution.ABORTED}, timeout=30)
    deadline = time.monotonic() + 10
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(grandchild)


def test_an_execution_outlives_the_client_that_created_it(admin):
    request = create_request("simple.sleepy_wf", {"seconds": literal(1.0)})
    with grpc.insecure_channel(admin.endpoint) as channel:
        AdminServiceStub(channel).CreateExecution(request)

    execution = admin.wait_for_phase(request.name, {WorkflowExecution.SUCCEEDED}, timeout=30)

    assert execution.closure.phase == WorkflowExecution.SUCCEEDED
