"""The tasks of the given files are deployed as Flyte 2 deploys them, and TaskService describes them."""

from __future__ import annotations

import shutil

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from flyteidl2.common import identifier_pb2, list_pb2
from flyteidl2.task import task_definition_pb2, task_service_pb2

from airflow_provider_flyte.local_flyte2 import LocalFlyte2Service
from airflow_provider_flyte.local_flyte2.registry import TaskRegistry, file_version
from tests.local_flyte2.conftest import DOMAIN, PROJECT, TASKS, task_id


def test_every_environment_task_is_deployed_as_env_dot_function_at_its_files_hash(service):
    names = {t.name: t.task_id.version for t in service.tasks}
    assert set(names) == {
        "arithmetic.add", "arithmetic.describe", "failing.divide", "failing.exit_hard",
        "slow.sleep", "slow.overrun", "slow.sleep_in_child",
    }
    assert names["arithmetic.add"] == names["arithmetic.describe"] == file_version(TASKS / "arithmetic.py")
    assert names["failing.divide"] != names["arithmetic.add"]


def test_a_files_version_changes_with_its_content_and_only_then(tmp_path):
    copy = tmp_path / "arithmetic.py"
    shutil.copy(TASKS / "arithmetic.py", copy)
    assert file_version(copy) == file_version(TASKS / "arithmetic.py")
    copy.write_text(copy.read_text() + "\n# edited\n")
    assert file_version(copy) != file_version(TASKS / "arithmetic.py")


def test_a_missing_task_file_is_an_error_at_startup():
    with pytest.raises(FileNotFoundError, match="no such task file or directory"):
        TaskRegistry().load([TASKS / "absent.py"], PROJECT, DOMAIN)


def test_task_details_carry_the_sdks_interface_and_default_inputs(service, tasks):
    details = tasks.get_task_details(task_service_pb2.GetTaskDetailsRequest(task_id=task_id(service, "arithmetic.add"))).details
    assert details.task_id.name == "arithmetic.add"
    assert [v.key for v in details.spec.task_template.interface.inputs.variables] == ["x", "y"]
    assert [p.name for p in details.spec.default_inputs] == ["y"]
    assert details.spec.short_name == "add" and details.spec.environment.name == "arithmetic"


def test_task_details_of_an_unknown_version_are_not_found(service, tasks):
    with pytest.raises(ConnectError) as raised:
        tasks.get_task_details(task_service_pb2.GetTaskDetailsRequest(task_id=task_id(service, "arithmetic.add", "nope")))
    assert raised.value.code == Code.NOT_FOUND


def test_list_tasks_filters_by_name_and_pages(service, tasks):
    project = identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN)
    by_name = list_pb2.Filter(function=list_pb2.Filter.EQUAL, field="name", values=["slow.sleep"])
    listed = tasks.list_tasks(task_service_pb2.ListTasksRequest(project_id=project, request=list_pb2.ListRequest(filters=[by_name])))
    assert [t.task_id.name for t in listed.tasks] == ["slow.sleep"]
    first = tasks.list_tasks(task_service_pb2.ListTasksRequest(project_id=project, request=list_pb2.ListRequest(limit=4)))
    rest = tasks.list_tasks(
        task_service_pb2.ListTasksRequest(project_id=project, request=list_pb2.ListRequest(limit=4, token=first.token))
    )
    assert len(first.tasks) == 4 and len(rest.tasks) == 3 and rest.token == ""
    assert {t.task_id.name for t in [*first.tasks, *rest.tasks]} == {t.name for t in service.tasks}


def test_list_versions_gives_the_deployed_version(service, tasks):
    name = task_definition_pb2.TaskName(project=PROJECT, domain=DOMAIN, name="failing.divide")
    versions = tasks.list_versions(task_service_pb2.ListVersionsRequest(task_name=name)).versions
    assert [v.version for v in versions] == [service.task("failing.divide").task_id.version]


@pytest.mark.asyncio
async def test_the_service_can_be_started_from_a_running_event_loop():
    with LocalFlyte2Service(tasks=[TASKS / "arithmetic.py"]) as started:
        assert {t.name for t in started.tasks} == {"arithmetic.add", "arithmetic.describe"}


def test_a_task_is_deployed_once_with_its_own_file_when_another_file_imports_its_environment(tmp_path):
    (tmp_path / "base.py").write_text(
        "import flyte\n\nenv = flyte.TaskEnvironment(name='shared')\n\n\n@env.task\ndef one() -> int:\n    return 1\n"
    )
    (tmp_path / "more.py").write_text("from base import env\n\n\n@env.task\ndef two() -> int:\n    return 2\n")
    deployed = {t.name: t.task_id.version for t in TaskRegistry().load([tmp_path], PROJECT, DOMAIN)}
    assert deployed == {"shared.one": file_version(tmp_path / "base.py"), "shared.two": file_version(tmp_path / "more.py")}
