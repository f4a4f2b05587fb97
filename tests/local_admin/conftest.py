"""One local admin per test module, serving tests/workflows/simple.py, and a gRPC stub to it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from flyteidl.admin import execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2
from flyteidl.service.admin_pb2_grpc import AdminServiceStub

from airflow_provider_flyte.local_admin import LocalFlyteAdmin
from airflow_provider_flyte.local_admin.modules import content_version

SIMPLE = Path(__file__).resolve().parents[1] / "workflows" / "simple.py"
PROJECT = "flytesnacks"
DOMAIN = "development"
VERSION = content_version(SIMPLE)


@pytest.fixture(scope="module")
def admin() -> Iterator[LocalFlyteAdmin]:
    with LocalFlyteAdmin(workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=0) as served:
        yield served


@pytest.fixture(scope="module")
def stub(admin: LocalFlyteAdmin) -> Iterator[AdminServiceStub]:
    with grpc.insecure_channel(admin.endpoint) as channel:
        yield AdminServiceStub(channel)


def unique_name() -> str:
    return "t" + uuid.uuid4().hex[:15]


def launch_plan_id(name: str, version: str = VERSION) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain=DOMAIN, name=name, version=version
    )


def execution_id(name: str) -> identifier_pb2.WorkflowExecutionIdentifier:
    return identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=name)


def literal(value: float | str) -> literals_pb2.Literal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(value)
    field = {int: "integer", float: "float_value", str: "string_value"}[type(value)]
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(**{field: value})))


def create_request(
    launch_plan: str, inputs: dict[str, literals_pb2.Literal] | None = None, name: str | None = None, **spec
) -> execution_pb2.ExecutionCreateRequest:
    return execution_pb2.ExecutionCreateRequest(
        project=PROJECT,
        domain=DOMAIN,
        name=unique_name() if name is None else name,
        spec=execution_pb2.ExecutionSpec(launch_plan=launch_plan_id(launch_plan), **spec),
        inputs=literals_pb2.LiteralMap(literals=inputs or {}),
    )
