"""Workflows run node by node: node records, node data, recovery and relaunch."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from flyteidl.admin import execution_pb2, node_execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2

from airflow_provider_flyte.local_admin.modules import content_version
from tests.local_admin.conftest import (
    DOMAIN,
    PROJECT,
    execution_id,
    literal,
    unique_name,
)

RECOVERY = Path(__file__).resolve().parents[1] / "workflows" / "recovery.py"
PHASES = core_execution_pb2.WorkflowExecution
NODE_PHASES = core_execution_pb2.NodeExecution
TERMINAL = {PHASES.SUCCEEDED, PHASES.FAILED, PHASES.TIMED_OUT, PHASES.ABORTED}


@pytest.fixture(scope="module", autouse=True)
def recovery_registered(admin):
    admin.register_module(RECOVERY)


def _recoverable(stub, admin, tmp_path: Path, marked: bool) -> tuple[str, Path, Path]:
    counter, marker = tmp_path / "runs.txt", tmp_path / "fail.marker"
    if marked:
        marker.touch()
    name = unique_name()
    launch_plan = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain=DOMAIN,
        name="recovery.recoverable_wf", version=content_version(RECOVERY),
    )
    inputs = {"counter": literal(str(counter)), "marker": literal(str(marker)), "x": literal(4)}
    stub.CreateExecution(
        execution_pb2.ExecutionCreateRequest(
            project=PROJECT, domain=DOMAIN, name=name,
            spec=execution_pb2.ExecutionSpec(launch_plan=launch_plan), inputs={"literals": inputs},
        )
    )
    admin.wait_for_phase(name, TERMINAL, timeout=30)
    return name, counter, marker


def _nodes(stub, name: str) -> dict[str, node_execution_pb2.NodeExecution]:
    listed = stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution_id(name), limit=100)
    )
    return {node.id.node_id: node for node in listed.node_executions}


def _outputs(stub, name: str):
    return stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id(name))).full_outputs


def test_each_top_level_node_is_recorded_with_phase_and_timings(stub, admin, tmp_path):
    name, _, _ = _recoverable(stub, admin, tmp_path, marked=False)
    nodes = _nodes(stub, name)
    assert list(nodes) == ["n0", "n1"]
    for node in nodes.values():
        assert node.closure.phase == NODE_PHASES.SUCCEEDED
        assert node.closure.started_at.ToNanoseconds() <= node.closure.updated_at.ToNanoseconds()
        assert node.metadata.spec_node_id == node.id.node_id


def test_node_data_holds_the_resolved_inputs_and_outputs(stub, admin, tmp_path):
    name, _, _ = _recoverable(stub, admin, tmp_path, marked=False)
    node_id = identifier_pb2.NodeExecutionIdentifier(node_id="n1", execution_id=execution_id(name))
    data = stub.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(id=node_id))
    assert data.full_inputs.literals["y"].scalar.primitive.integer == 5
    assert data.full_outputs.literals["o0"].scalar.primitive.integer == 50


def test_a_failing_node_fails_the_execution_and_records_its_error(stub, admin, tmp_path):
    name, _, _ = _recoverable(stub, admin, tmp_path, marked=True)
    assert admin.get_execution(name).closure.phase == PHASES.FAILED
    nodes = _nodes(stub, name)
    assert nodes["n0"].closure.phase == NODE_PHASES.SUCCEEDED
    assert nodes["n1"].closure.phase == NODE_PHASES.FAILED
    assert "marker" in nodes["n1"].closure.error.message
    assert nodes["n1"].closure.error.kind == core_execution_pb2.ExecutionError.USER


def test_recover_skips_nodes_that_succeeded_and_reruns_the_failed_one(stub, admin, tmp_path):
    original, counter, marker = _recoverable(stub, admin, tmp_path, marked=True)
    marker.unlink()
    recovered = stub.RecoverExecution(execution_pb2.ExecutionRecoverRequest(id=execution_id(original))).id
    execution = admin.wait_for_phase(recovered.name, TERMINAL, timeout=30)
    assert execution.closure.phase == PHASES.SUCCEEDED
    assert counter.read_text().count("run") == 1  # the counting node did not run again
    assert _outputs(stub, recovered.name).literals["o0"].scalar.primitive.integer == 50
    assert _nodes(stub, recovered.name)["n0"].closure.phase == NODE_PHASES.RECOVERED


def test_recovered_execution_references_the_original_in_recovered_mode(stub, admin, tmp_path):
    original, _, _ = _recoverable(stub, admin, tmp_path, marked=True)
    name = unique_name()
    stub.RecoverExecution(execution_pb2.ExecutionRecoverRequest(id=execution_id(original), name=name))
    metadata = admin.get_execution(name).spec.metadata
    assert metadata.mode == execution_pb2.ExecutionMetadata.RECOVERED
    assert metadata.reference_execution == execution_id(original)
    assert admin.get_execution(name).closure.computed_inputs == admin.get_execution(original).closure.computed_inputs


def test_relaunch_reruns_every_node_with_the_same_inputs(stub, admin, tmp_path):
    original, counter, _ = _recoverable(stub, admin, tmp_path, marked=False)
    relaunch = execution_pb2.ExecutionRelaunchRequest(
        id=execution_id(original), name=unique_name(), overwrite_cache=True
    )
    relaunched = stub.RelaunchExecution(relaunch).id
    execution = admin.wait_for_phase(relaunched.name, TERMINAL, timeout=30)
    assert execution.closure.phase == PHASES.SUCCEEDED
    assert execution.spec.metadata.mode == execution_pb2.ExecutionMetadata.RELAUNCH
    assert execution.spec.overwrite_cache
    assert execution.spec.launch_plan == admin.get_execution(original).spec.launch_plan
    assert counter.read_text().count("run") == 2


@pytest.mark.parametrize("rpc", ["RecoverExecution", "RelaunchExecution"])
def test_recover_and_relaunch_reject_a_duplicate_name(stub, admin, tmp_path, rpc):
    original, _, _ = _recoverable(stub, admin, tmp_path, marked=False)
    request_type = {
        "RecoverExecution": execution_pb2.ExecutionRecoverRequest,
        "RelaunchExecution": execution_pb2.ExecutionRelaunchRequest,
    }[rpc]
    with pytest.raises(grpc.RpcError) as raised:
        getattr(stub, rpc)(request_type(id=execution_id(original), name=original))
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS


def test_recovering_an_unknown_execution_is_not_found(stub):
    with pytest.raises(grpc.RpcError) as raised:
        stub.RecoverExecution(execution_pb2.ExecutionRecoverRequest(id=execution_id("nothing-here")))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


def test_large_outputs_are_offloaded_to_a_file_uri(stub, admin):
    launch_plan = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain=DOMAIN,
        name="recovery.big_output_wf", version=content_version(RECOVERY),
    )
    name = unique_name()
    stub.CreateExecution(
        execution_pb2.ExecutionCreateRequest(
            project=PROJECT, domain=DOMAIN, name=name, spec=execution_pb2.ExecutionSpec(launch_plan=launch_plan)
        )
    )
    assert admin.wait_for_phase(name, TERMINAL, timeout=30).closure.phase == PHASES.SUCCEEDED
    data = stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id(name)))
    assert not data.full_outputs.literals
    assert data.outputs.url.startswith("file://") and data.outputs.bytes > 2 * 1024 * 1024
    stored = Path(data.outputs.url[len("file://") :]).read_bytes()
    assert len(stored) == data.outputs.bytes


def test_small_data_is_inlined_and_also_referenced(stub, admin, tmp_path):
    name, _, _ = _recoverable(stub, admin, tmp_path, marked=False)
    data = stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id(name)))
    assert data.full_outputs.literals["o0"].scalar.primitive.integer == 50
    assert data.outputs.url.startswith("file://") and data.outputs.bytes == data.full_outputs.ByteSize()


def test_a_workflow_with_a_conditional_runs_as_one_whole_node(stub, admin):
    launch_plan = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain=DOMAIN,
        name="recovery.branching_wf", version=content_version(RECOVERY),
    )
    name = unique_name()
    stub.CreateExecution(
        execution_pb2.ExecutionCreateRequest(
            project=PROJECT, domain=DOMAIN, name=name,
            spec=execution_pb2.ExecutionSpec(launch_plan=launch_plan), inputs={"literals": {"x": literal(-3)}},
        )
    )
    assert admin.wait_for_phase(name, TERMINAL, timeout=30).closure.phase == PHASES.SUCCEEDED
    assert list(_nodes(stub, name)) == ["n0"]
    assert _outputs(stub, name).literals["o0"].scalar.primitive.integer == 3
