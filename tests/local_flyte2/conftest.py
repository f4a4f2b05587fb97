"""One local Flyte 2 run service per test module, over the task files in tasks/, and Connect clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flyteidl2.common import identifier_pb2
from flyteidl2.core import literals_pb2
from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyServiceClientSync
from flyteidl2.task import common_pb2, task_definition_pb2
from flyteidl2.task.task_service_connect import TaskServiceClientSync
from flyteidl2.workflow import run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClientSync

from airflow_provider_flyte.local_flyte2 import LocalFlyte2Service

TASKS = Path(__file__).parent / "tasks"
PROJECT = "flytesnacks"
DOMAIN = "development"


@pytest.fixture(scope="module")
def service() -> Iterator[LocalFlyte2Service]:
    with LocalFlyte2Service(tasks=[TASKS], port=0) as running:
        yield running


@pytest.fixture(scope="module")
def runs(service: LocalFlyte2Service) -> Iterator[RunServiceClientSync]:
    with RunServiceClientSync(service.url, timeout_ms=30_000) as client:
        yield client


@pytest.fixture(scope="module")
def tasks(service: LocalFlyte2Service) -> Iterator[TaskServiceClientSync]:
    with TaskServiceClientSync(service.url, timeout_ms=30_000) as client:
        yield client


@pytest.fixture(scope="module")
def dataproxy(service: LocalFlyte2Service) -> Iterator[DataProxyServiceClientSync]:
    with DataProxyServiceClientSync(service.url, timeout_ms=30_000) as client:
        yield client


def integer(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value)))


def floating(value: float) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(float_value=value)))


def string(value: str) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=value)))


def inputs(**values: literals_pb2.Literal) -> common_pb2.Inputs:
    return common_pb2.Inputs(literals=[common_pb2.NamedLiteral(name=k, value=v) for k, v in values.items()])


def run_id(name: str) -> identifier_pb2.RunIdentifier:
    return identifier_pb2.RunIdentifier(project=PROJECT, domain=DOMAIN, name=name)


def task_id(service: LocalFlyte2Service, name: str, version: str | None = None) -> task_definition_pb2.TaskIdentifier:
    deployed = service.task(name) if version is None else None
    return task_definition_pb2.TaskIdentifier(
        project=PROJECT, domain=DOMAIN, name=name, version=version or deployed.task_id.version  # type: ignore[union-attr]
    )


def create_request(
    service: LocalFlyte2Service, name: str, task: str, values: common_pb2.Inputs
) -> run_service_pb2.CreateRunRequest:
    return run_service_pb2.CreateRunRequest(run_id=run_id(name), task_id=task_id(service, task), inputs=values)
