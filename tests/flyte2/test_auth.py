"""The flyte2 connection's OAuth2 modes against a local Flyte 2 run service that requires tokens
(client credentials, its token endpoint advertised by AuthMetadataService), and the token
source's pacing (single-flight, backoff) against a scripted identity provider."""

from __future__ import annotations

import asyncio
import base64
import http.server
import json
import threading
import time
import urllib.parse
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

    assert not ok and "of connection 'f2_wrong' refused the client credentials" in message and "not-it" not in message


def test_without_credentials_the_service_refuses_and_the_task_is_told_why(secured, monkeypatch):
    hook = connect(monkeypatch, "f2_anonymous", secured)

    ok, message = hook.test_connection()

    assert not ok and "UNAUTHENTICATED" in message


def test_a_bearer_token_in_the_password_is_sent_as_it_is(secured, monkeypatch):
    import httpx

    token = httpx.post(secured.token_endpoint, data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)).json()["access_token"]
    hook = connect(monkeypatch, "f2_bearer", secured, password=token, extra={"auth_mode": "bearer"})

    assert hook.test_connection()[0] is True


TRICKY_SECRET = "a+b/c=d:e f%"  # what quote_plus changes, and the ':' that splits Basic auth


@pytest.fixture(scope="module")
def tricky() -> Iterator[Any]:
    from airflow_provider_flyte.local_flyte2 import LocalFlyte2Service
    from airflow_provider_flyte.local_flyte2.auth import ClientCredentials

    with LocalFlyte2Service(tasks=TASKS[:1], port=0, project=PROJECT, domain=DOMAIN, auth=ClientCredentials(CLIENT_ID, TRICKY_SECRET)) as service:
        yield service


def test_a_secret_with_url_special_characters_is_url_encoded_in_basic_auth(tricky, monkeypatch):
    hook = connect(monkeypatch, "f2_tricky", tricky, login=CLIENT_ID, password=TRICKY_SECRET, extra={"auth_mode": "client_credentials"})

    assert hook.test_connection() == (True, f"Connected to Flyte 2 at {tricky.url}")


def test_tokens_are_masked_in_airflow_logs(secured, monkeypatch):
    from airflow.sdk._shared.secrets_masker.secrets_masker import redact

    hook = connect(monkeypatch, "f2_masked", secured, login=CLIENT_ID, password=CLIENT_SECRET, extra={"auth_mode": "client_credentials"})
    token = dict(hook.client.tokens.metadata())["authorization"].removeprefix("Bearer ")

    assert token not in str(redact(f"calling with {token}"))


def test_the_client_secret_decoded_from_an_api_key_is_masked(secured, monkeypatch):
    from airflow.sdk._shared.secrets_masker.secrets_masker import redact

    secret = "decoded-only-" + "x" * 8
    key = base64.b64encode(f"{secured.endpoint}:{CLIENT_ID}:{secret}:".encode()).decode()
    hook = connect(monkeypatch, "f2_key_masked", secured, password=key, extra={"auth_mode": "api_key", "token_url": secured.token_endpoint})

    hook.test_connection()  # refused (not the service's secret), but the secret was masked before it was sent

    assert secret not in str(redact(f"sending {secret}"))


def test_many_waits_refused_at_once_share_one_new_token(secured, monkeypatch):
    """The triggerer's case: 50 waits on one client find their token revoked at the same moment."""
    from airflow_provider_flyte.flyte2 import messages as m
    from airflow_provider_flyte.flyte2.client import AsyncFlyte2Client

    config = connect(monkeypatch, "f2_many", secured, login=CLIENT_ID, password=CLIENT_SECRET, extra={"auth_mode": "client_credentials"}).config

    async def waits() -> tuple[list[Any], int, int]:
        client = AsyncFlyte2Client(config)
        try:
            await client.call_unless("GetRunDetails", m.details_request("", PROJECT, DOMAIN, "auth-many"), "NOT_FOUND")
            requests = secured.tokens.requests
            secured.tokens.expire_all()
            found = await asyncio.gather(
                *(client.call_unless("GetRunDetails", m.details_request("", PROJECT, DOMAIN, f"auth-many-{i}"), "NOT_FOUND") for i in range(50))
            )
            return list(found), requests, secured.tokens.requests
        finally:
            await client.close()

    found, before, after = asyncio.run(waits())

    assert found == [None] * 50 and after - before == 1


# -- pacing against a scripted identity provider ---------------------------------------------------------


class ScriptedIdP(http.server.ThreadingHTTPServer):
    """A token endpoint answering each POST with the next scripted status (200 when none is left)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _IdPHandler)
        self.script: list[int] = []
        self.requests = 0
        self.authorizations: list[str] = []
        self.lifetime = 3600

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/token"


class _IdPHandler(http.server.BaseHTTPRequestHandler):
    server: ScriptedIdP

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length", 0)))
        idp = self.server
        idp.requests += 1
        idp.authorizations.append(self.headers.get("authorization", ""))
        status = idp.script.pop(0) if idp.script else 200
        body = {"access_token": f"token-{idp.requests}", "expires_in": idp.lifetime} if status == 200 else {"error": "x"}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def idp() -> Iterator[ScriptedIdP]:
    server = ScriptedIdP()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def token_source(idp: ScriptedIdP, secret: str = CLIENT_SECRET) -> Any:
    from airflow_provider_flyte.flyte2.auth import TokenSource
    from airflow_provider_flyte.flyte2.connection import Flyte2ConnectionConfig

    config = Flyte2ConnectionConfig(
        "f2_idp", "http://127.0.0.1:1", auth_mode="client_credentials", client_id=CLIENT_ID, secret=secret, token_url=idp.url
    )
    return TokenSource(config)


def test_the_basic_header_carries_the_url_encoded_secret_as_the_sdk_sends_it(idp):
    from flyte.remote._client.auth._token_client import get_basic_authorization_header

    token_source(idp, TRICKY_SECRET).metadata()

    sent = idp.authorizations[0]
    assert sent == get_basic_authorization_header(CLIENT_ID, TRICKY_SECRET)
    client_id, _, secret = base64.b64decode(sent.removeprefix("Basic ")).decode().partition(":")
    assert (client_id, urllib.parse.unquote_plus(secret)) == (CLIENT_ID, TRICKY_SECRET)


def test_an_idp_failure_backs_off_and_keeps_serving_the_still_valid_token(idp):
    from airflow_provider_flyte.exceptions import FlyteTokenEndpointUnavailable

    idp.lifetime = 2  # renewed after 1.8 s, valid for 2 s
    tokens = token_source(idp)
    first = tokens.metadata()
    time.sleep(1.85)
    idp.script = [503, 503]

    assert tokens.metadata() == first  # the renewal failed: the valid token still serves ...
    assert tokens.metadata() == first and idp.requests == 2  # ... and nobody asks again during the backoff
    time.sleep(0.2)  # now expired, still backing off (1 s): the failure at once, no request
    with pytest.raises(FlyteTokenEndpointUnavailable):
        tokens.metadata()
    assert idp.requests == 2
    time.sleep(0.9)  # the backoff (1 s) is over: one request, refused again, the next step is 2 s
    with pytest.raises(FlyteTokenEndpointUnavailable):
        tokens.metadata()
    assert idp.requests == 3


def test_a_fresh_token_costs_the_event_loop_no_thread_and_no_request(idp, monkeypatch):
    tokens = token_source(idp)
    first = asyncio.run(tokens.ametadata())

    def no_thread(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a thread was used for a cached token")

    monkeypatch.setattr(asyncio, "to_thread", no_thread)
    assert asyncio.run(tokens.ametadata()) == first and idp.requests == 1


def test_a_short_lived_token_is_not_renewed_on_every_call(idp):
    idp.lifetime = 30  # renewed after 27 s, not refetched for each call under 60 s as before
    tokens = token_source(idp)

    for _ in range(5):
        tokens.metadata()

    assert idp.requests == 1


def test_a_late_refusal_of_the_old_token_does_not_drop_its_replacement(idp):
    tokens = token_source(idp)
    old = tokens.metadata()
    tokens.invalidate(old)  # the first wait refused: replaced once
    new = tokens.metadata()

    tokens.invalidate(old)  # a wait that sent the old token is refused after the replacement arrived

    assert tokens.metadata() == new != old and idp.requests == 2
