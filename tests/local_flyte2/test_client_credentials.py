"""With client-credentials auth, calls need a token from the service's token endpoint, as behind an IdP."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import quote_plus

import httpx
import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from flyteidl2.auth import auth_service_pb2
from flyteidl2.auth.auth_service_connect import AuthMetadataServiceClientSync
from flyteidl2.workflow import run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClientSync

from airflow_provider_flyte.local_flyte2 import LocalFlyte2Service
from airflow_provider_flyte.local_flyte2.auth import ClientCredentials
from tests.local_flyte2.conftest import TASKS, create_request, floating, inputs, run_id


@pytest.fixture(scope="module")
def secured() -> Iterator[LocalFlyte2Service]:
    with LocalFlyte2Service(tasks=[TASKS / "slow.py"], auth=ClientCredentials("airflow", "s3cret")) as running:
        yield running


def _token(service: LocalFlyte2Service, client_id: str = "airflow", secret: str = "s3cret") -> httpx.Response:
    assert service.token_endpoint is not None
    return httpx.post(service.token_endpoint, data={"grant_type": "client_credentials"}, auth=(client_id, secret))


def _basic(client_id: str, secret: str) -> dict[str, str]:
    """Basic auth as the flyte SDK sends it: the secret form-urlencoded first (RFC 6749 2.3.1)."""
    encoded = base64.b64encode(f"{client_id}:{quote_plus(secret)}".encode()).decode()
    return {"authorization": f"Basic {encoded}"}


def test_a_secret_is_decoded_from_basic_auth_as_an_identity_provider_decodes_it():
    tricky = "a+b/c=d:e f%"
    with LocalFlyte2Service(tasks=[TASKS / "slow.py"], auth=ClientCredentials("airflow", tricky)) as service:
        assert service.token_endpoint is not None
        grant = {"grant_type": "client_credentials"}
        encoded = httpx.post(service.token_endpoint, data=grant, headers=_basic("airflow", tricky))
        raw = httpx.post(service.token_endpoint, data=grant, auth=("airflow", tricky))
        in_form = httpx.post(service.token_endpoint, data={**grant, "client_id": "airflow", "client_secret": tricky})
    assert encoded.status_code == 200 and in_form.status_code == 200
    assert raw.status_code == 401  # '+' decodes to a space: a raw secret is refused, as a real IdP refuses it


def test_a_call_without_a_token_is_unauthenticated(secured):
    with RunServiceClientSync(secured.url) as runs, pytest.raises(ConnectError) as raised:
        runs.get_run_details(run_service_pb2.GetRunDetailsRequest(run_id=run_id("any")))
    assert raised.value.code == Code.UNAUTHENTICATED


def test_the_auth_metadata_is_open_and_advertises_the_token_endpoint(secured):
    with AuthMetadataServiceClientSync(secured.url) as metadata:
        answer = metadata.get_o_auth2_metadata(auth_service_pb2.GetOAuth2MetadataRequest())
    assert answer.token_endpoint == secured.token_endpoint
    assert list(answer.grant_types_supported) == ["client_credentials"]


def test_the_token_endpoint_refuses_a_wrong_secret_and_a_wrong_grant(secured):
    assert _token(secured, secret="wrong").status_code == 401
    assert _token(secured, secret="wrong").json() == {"error": "invalid_client"}
    refused = httpx.post(secured.token_endpoint or "", data={"grant_type": "password"}, auth=("airflow", "s3cret"))
    assert refused.status_code == 400


def test_a_token_authorizes_calls_and_an_abort_names_the_client_as_principal(secured):
    answer = _token(secured).json()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
    headers = {"authorization": f"Bearer {answer['access_token']}"}
    with RunServiceClientSync(secured.url) as runs:
        runs.create_run(create_request(secured, "authorized", "slow.sleep", inputs(seconds=floating(60))), headers=headers)
        runs.abort_run(run_service_pb2.AbortRunRequest(run_id=run_id("authorized"), reason="done"), headers=headers)
        secured.wait_for_phase("authorized")
        details = runs.get_run_details(run_service_pb2.GetRunDetailsRequest(run_id=run_id("authorized")), headers=headers)
    assert details.details.action.abort_info.aborted_by.user.spec.user_handle == "airflow"


def test_an_expired_token_is_unauthenticated(secured):
    headers = {"authorization": f"Bearer {_token(secured).json()['access_token']}"}
    assert secured.tokens is not None
    secured.tokens.expire_all()
    with RunServiceClientSync(secured.url) as runs, pytest.raises(ConnectError) as raised:
        runs.get_run_details(run_service_pb2.GetRunDetailsRequest(run_id=run_id("authorized")), headers=headers)
    assert raised.value.code == Code.UNAUTHENTICATED
