"""Client-secret auth and TLS: enforced on AdminService, and usable by flytekit unchanged."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import grpc
import pytest
from flyteidl.admin import version_pb2
from flyteidl.service import auth_pb2
from flyteidl.service.admin_pb2_grpc import AdminServiceStub
from flyteidl.service.auth_pb2_grpc import AuthMetadataServiceStub
from flytekit.configuration import Config, PlatformConfig
from flytekit.remote import FlyteRemote

from airflow_provider_flyte.local_admin import ClientSecretAuth, LocalFlyteAdmin
from tests.local_admin.conftest import DOMAIN, PROJECT, SIMPLE, VERSION, unique_name

CLIENT_ID = "airflow"
CLIENT_SECRET = "s3cret/with+odd=chars"


@pytest.fixture(scope="module")
def secured() -> Iterator[LocalFlyteAdmin]:
    auth = ClientSecretAuth(CLIENT_ID, CLIENT_SECRET, token_lifetime=600)
    with LocalFlyteAdmin(workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=0, auth=auth) as admin:
        yield admin


@pytest.fixture(scope="module")
def secured_tls() -> Iterator[LocalFlyteAdmin]:
    auth = ClientSecretAuth(CLIENT_ID, CLIENT_SECRET)
    with LocalFlyteAdmin(workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=0, auth=auth, tls=True) as admin:
        yield admin


def _token(admin: LocalFlyteAdmin, secret: str = CLIENT_SECRET, scope: str = "all", context=None) -> dict:
    basic = base64.b64encode(f"{CLIENT_ID}:{urllib.parse.quote_plus(secret)}".encode()).decode()
    request = urllib.request.Request(
        admin.token_endpoint,
        data=urllib.parse.urlencode({"grant_type": "client_credentials", "scope": scope}).encode(),
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        return json.loads(response.read())


def _version(admin: LocalFlyteAdmin, metadata=()) -> version_pb2.GetVersionResponse:
    with grpc.insecure_channel(admin.endpoint) as channel:
        return AdminServiceStub(channel).GetVersion(version_pb2.GetVersionRequest(), metadata=metadata, timeout=10)


def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value.code()


def test_auth_metadata_is_served_anonymously(secured):
    with grpc.insecure_channel(secured.endpoint) as channel:
        stub = AuthMetadataServiceStub(channel)
        metadata = stub.GetOAuth2Metadata(auth_pb2.OAuth2MetadataRequest(), timeout=10)
        client = stub.GetPublicClientConfig(auth_pb2.PublicClientAuthConfigRequest(), timeout=10)
    assert metadata.token_endpoint == secured.token_endpoint
    assert metadata.token_endpoint.startswith("http://127.0.0.1:")
    assert client.authorization_metadata_key == "flyte-authorization"


def test_admin_calls_without_a_token_are_unauthenticated(secured):
    with pytest.raises(grpc.RpcError) as raised:
        _version(secured)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert raised.value.details().startswith("token parse error")


def test_a_token_from_the_endpoint_opens_the_admin(secured):
    token = _token(secured)
    assert token["token_type"] == "bearer" and token["expires_in"] == 600
    assert _version(secured, [("flyte-authorization", f"Bearer {token['access_token']}")]).control_plane_version


def test_an_unknown_token_is_unauthenticated(secured):
    call = lambda: _version(secured, [("flyte-authorization", "Bearer forged")])
    assert _code(call) == grpc.StatusCode.UNAUTHENTICATED


def test_expired_tokens_are_refused(secured):
    token = _token(secured)["access_token"]
    secured.tokens.expire_all()
    call = lambda: _version(secured, [("flyte-authorization", f"Bearer {token}")])
    assert _code(call) == grpc.StatusCode.UNAUTHENTICATED


def test_a_wrong_secret_gets_no_token(secured):
    with pytest.raises(urllib.error.HTTPError) as raised:
        _token(secured, secret="wrong")
    assert raised.value.code == 401


def test_flyteremote_with_client_secret_runs_and_is_recorded_as_principal(secured):
    issued = secured.tokens.issued
    remote = FlyteRemote(
        Config(
            platform=PlatformConfig(
                endpoint=secured.endpoint, insecure=True, auth_mode="ClientSecret",
                client_id=CLIENT_ID, client_credentials_secret=CLIENT_SECRET,
            )
        ),
        default_project=PROJECT,
        default_domain=DOMAIN,
    )
    launch_plan = remote.fetch_launch_plan(name="simple.double_wf", version=VERSION)
    execution = remote.execute(launch_plan, inputs={"x": 5}, execution_name=unique_name())
    finished = remote.wait(execution, poll_interval=timedelta(milliseconds=100), timeout=timedelta(seconds=30))
    assert finished.outputs["o0"] == 10
    assert secured.tokens.issued > issued
    assert secured.get_execution(execution.id.name).spec.metadata.principal == CLIENT_ID


def test_tls_serves_with_a_certificate_clients_can_trust(secured_tls):
    with open(secured_tls.ca_cert_path, "rb") as pem:
        credentials = grpc.ssl_channel_credentials(root_certificates=pem.read())
    with grpc.secure_channel(secured_tls.endpoint, credentials) as channel:
        stub = AuthMetadataServiceStub(channel)
        metadata = stub.GetOAuth2Metadata(auth_pb2.OAuth2MetadataRequest(), timeout=10)
    assert metadata.token_endpoint.startswith("https://127.0.0.1:")


def test_plaintext_clients_cannot_talk_to_a_tls_admin(secured_tls):
    with grpc.insecure_channel(secured_tls.endpoint) as channel:
        call = lambda: AdminServiceStub(channel).GetVersion(version_pb2.GetVersionRequest(), timeout=3)
        assert _code(call) in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def test_flyteremote_over_tls_with_client_secret(secured_tls):
    remote = FlyteRemote(
        Config(
            platform=PlatformConfig(
                endpoint=secured_tls.endpoint, insecure=False, ca_cert_file_path=secured_tls.ca_cert_path,
                auth_mode="ClientSecret", client_id=CLIENT_ID, client_credentials_secret=CLIENT_SECRET,
            )
        ),
        default_project=PROJECT,
        default_domain=DOMAIN,
    )
    launch_plan = remote.fetch_launch_plan(name="simple.double_wf", version=VERSION)
    execution = remote.execute(launch_plan, inputs={"x": 7}, execution_name=unique_name())
    finished = remote.wait(execution, poll_interval=timedelta(milliseconds=100), timeout=timedelta(seconds=30))
    assert finished.outputs["o0"] == 14
