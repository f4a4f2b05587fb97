"""The flyte2 connection's OAuth2 modes against a local Flyte 2 run service that requires tokens
(client credentials, its token endpoint advertised by AuthMetadataService)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_flyte.flyte2.hook import Flyte2Hook
from tests.conftest import DOMAIN, PROJECT
from tests.flyte2.conftest import TASKS

CLIENT_ID, CLIENT_SECRET = "airflow", "s3cr3t"


@pytest.fixture(scope="module")
def secured() -> Iterator[Any]:
    from airflow_provider_flyte.local_flyte2 import LocalFlyte2Service
    from airflow_provider_flyte.local_flyte2.auth import ClientCredentials

    with LocalFlyte2Service(tasks=TASKS[:1], port=0, project=PROJECT, domain=DOMAIN, auth=ClientCredentials(CLIENT_ID, CLIENT_SECRET)) as service:
        yield service


def connect(monkeypatch, conn_id: str, service: Any, **fields: Any) -> Flyte2Hook:
    host, port = service.endpoint.rsplit(":", 1)
    extra = {"insecure": True, "project": PROJECT, "domain": DOMAIN, "retries": 1, **fields.pop("extra", {})}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "flyte2", "host": host, "port": int(port), "extra": extra, **fields}))
    return Flyte2Hook(conn_id)


def test_client_credentials_find_the_token_endpoint_and_get_one_token_for_many_calls(secured, monkeypatch):
    hook = connect(monkeypatch, "f2_cc", secured, login=CLIENT_ID, password=CLIENT_SECRET, extra={"auth_mode": "client_credentials"})
    issued = secured.tokens.issued

    for _ in range(3):
        assert hook.find_run("", PROJECT, DOMAIN, "auth-nothing") is None

    assert secured.tokens.issued == issued + 1


def test_an_expired_token_is_replaced_once_the_service_refuses_it(secured, monkeypatch):
    hook = connect(monkeypatch, "f2_expiring", secured, login=CLIENT_ID, password=CLIENT_SECRET, extra={"auth_mode": "client_credentials"})
    assert hook.find_run("", PROJECT, DOMAIN, "auth-nothing") is None
    issued = secured.tokens.issued

    secured.tokens.expire_all()

    assert hook.find_run("", PROJECT, DOMAIN, "auth-nothing") is None
    assert secured.tokens.issued == issued + 1


def test_an_api_key_carries_the_client_credentials(secured, monkeypatch):
    key = base64.b64encode(f"{secured.endpoint}:{CLIENT_ID}:{CLIENT_SECRET}:".encode()).decode()
    hook = connect(monkeypatch, "f2_key", secured, password=key, extra={"auth_mode": "api_key", "token_url": secured.token_endpoint})

    assert hook.test_connection() == (True, f"Connected to Flyte 2 at {secured.url}")


def test_wrong_credentials_fail_naming_the_connection_never_the_secret(secured, monkeypatch):
    hook = connect(monkeypatch, "f2_wrong", secured, login=CLIENT_ID, password="not-it", extra={"auth_mode": "client_credentials"})

    ok, message = hook.test_connection()

    assert not ok and "refused the client credentials of connection 'f2_wrong'" in message and "not-it" not in message


def test_without_credentials_the_service_refuses_and_the_task_is_told_why(secured, monkeypatch):
    hook = connect(monkeypatch, "f2_anonymous", secured)

    ok, message = hook.test_connection()

    assert not ok and "UNAUTHENTICATED" in message


def test_a_bearer_token_in_the_password_is_sent_as_it_is(secured, monkeypatch):
    import httpx

    token = httpx.post(secured.token_endpoint, data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)).json()["access_token"]
    hook = connect(monkeypatch, "f2_bearer", secured, password=token, extra={"auth_mode": "bearer"})

    assert hook.test_connection()[0] is True
