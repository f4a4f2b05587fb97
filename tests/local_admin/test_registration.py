"""Registered entities are found under flytekit's own names, like after `pyflyte register`."""

from __future__ import annotations

import grpc
import pytest
from flyteidl.admin import common_pb2, launch_plan_pb2, project_pb2, version_pb2
from flyteidl.core import identifier_pb2

from tests.local_admin.conftest import DOMAIN, PROJECT, VERSION, launch_plan_id


def _named(name: str = "") -> common_pb2.NamedEntityIdentifier:
    return common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN, name=name)


def _entity_id(resource_type: int, name: str) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=resource_type, project=PROJECT, domain=DOMAIN, name=name, version=VERSION
    )


def test_version_is_derived_from_file_content():
    assert VERSION.startswith("local-") and len(VERSION) == len("local-") + 12


def test_workflow_gets_default_launch_plan_with_its_own_name(stub):
    launch_plan = stub.GetLaunchPlan(common_pb2.ObjectGetRequest(id=launch_plan_id("simple.double_wf")))
    assert launch_plan.spec.workflow_id.name == "simple.double_wf"
    assert launch_plan.closure.expected_inputs.parameters["x"].default.scalar.primitive.integer == 1


def test_explicit_launch_plan_keeps_fixed_inputs_out_of_expected_inputs(stub):
    launch_plan = stub.GetLaunchPlan(common_pb2.ObjectGetRequest(id=launch_plan_id("simple.double_fixed")))
    assert launch_plan.spec.workflow_id.name == "simple.double_wf"
    assert launch_plan.spec.fixed_inputs.literals["x"].scalar.primitive.integer == 5
    assert "x" not in launch_plan.closure.expected_inputs.parameters


def test_launch_plans_are_registered_inactive(stub):
    launch_plan = stub.GetLaunchPlan(common_pb2.ObjectGetRequest(id=launch_plan_id("simple.double_wf")))
    assert launch_plan.closure.state == launch_plan_pb2.INACTIVE
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetActiveLaunchPlan(launch_plan_pb2.ActiveLaunchPlanRequest(id=_named("simple.double_wf")))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert raised.value.details() == f"No active launch plan could be found: {PROJECT}:{DOMAIN}:simple.double_wf"


def test_task_template_is_served(stub):
    task = stub.GetTask(common_pb2.ObjectGetRequest(id=_entity_id(identifier_pb2.TASK, "simple.double")))
    assert task.closure.compiled_task.template.id.name == "simple.double"
    assert "x" in task.closure.compiled_task.template.interface.inputs.variables


def test_workflow_has_compiled_closure_with_its_tasks(stub):
    workflow = stub.GetWorkflow(common_pb2.ObjectGetRequest(id=_entity_id(identifier_pb2.WORKFLOW, "simple.double_wf")))
    compiled = workflow.closure.compiled_workflow
    assert compiled.primary.template.id.name == "simple.double_wf"
    assert [t.template.id.name for t in compiled.tasks] == ["simple.double"]
    assert list(compiled.primary.connections.upstream["end-node"].ids) == ["n0"]


def test_unknown_version_is_not_found(stub):
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetLaunchPlan(common_pb2.ObjectGetRequest(id=launch_plan_id("simple.double_wf", "nope")))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert raised.value.details().startswith("missing entity of type LAUNCH_PLAN with identifier")


def test_latest_launch_plan_is_the_first_sorted_by_created_at_descending(stub):
    newest_first = common_pb2.Sort(key="created_at", direction=common_pb2.Sort.DESCENDING)
    request = common_pb2.ResourceListRequest(id=_named("simple.sleepy_wf"), limit=1, sort_by=newest_first)
    listed = stub.ListLaunchPlans(request)
    assert [lp.id.version for lp in listed.launch_plans] == [VERSION]


def test_list_pages_with_decimal_offset_token_until_a_short_page(stub):
    first = stub.ListLaunchPlans(common_pb2.ResourceListRequest(id=_named(), limit=4))
    second = stub.ListLaunchPlans(common_pb2.ResourceListRequest(id=_named(), limit=4, token=first.token))
    names = [lp.id.name for lp in [*first.launch_plans, *second.launch_plans]]
    assert first.token == "4" and second.token == ""
    assert len(names) == len(set(names)) == 6


def test_list_with_zero_limit_is_invalid(stub):
    with pytest.raises(grpc.RpcError) as raised:
        stub.ListLaunchPlans(common_pb2.ResourceListRequest(id=_named(), limit=0))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_tasks_and_workflows_are_listed(stub):
    tasks = stub.ListTasks(common_pb2.ResourceListRequest(id=_named(), limit=100))
    workflows = stub.ListWorkflows(common_pb2.ResourceListRequest(id=_named(), limit=100))
    assert "simple.overslept" in {t.id.name for t in tasks.tasks}
    assert "simple.timeout_wf" in {w.id.name for w in workflows.workflows}


def test_unimplemented_rpcs_say_so(stub):
    with pytest.raises(grpc.RpcError) as raised:
        stub.ListProjects(project_pb2.ProjectListRequest())
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_rpcs_are_counted_by_method(admin, stub):
    before = admin.rpc_counts.get("GetVersion", 0)
    stub.GetVersion(version_pb2.GetVersionRequest())
    assert admin.rpc_counts["GetVersion"] == before + 1
