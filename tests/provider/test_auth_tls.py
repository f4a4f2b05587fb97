"""Every auth mode that runs headless, and TLS, against the local admin's auth and TLS modes."""

from __future__ import annotations

import json
import sys

import pytest

from airflow_provider_flyte.hooks.admin_messages import LaunchOptions
from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger, FlyteTriggerEvent
from tests.conftest import DOMAIN, PROJECT, TEST_WORKFLOWS

CLIENT_ID, SECRET = "airflow-worker", "s3cr/t:with+chars"


@pytest.fixture(scope="module")
def secure_admin():
    from airflow_provider_flyte.local_admin import LocalFlyteAdmin
    from airflow_provider_flyte.local_admin.auth import ClientSecretAuth

    auth = ClientSecretAuth(CLIENT_ID, SECRET, token_lifetime=3600)
    with LocalFlyteAdmin(workflows=[TEST_WORKFLOWS], project=PROJECT, domain=DOMAIN, port=0, auth=auth, tls=True) as admin:
        yield admin


def connect(monkeypatch, admin, conn_id: str, login: str | None = CLIENT_ID, password: str | None = SECRET, **extra) -> FlyteHook:
    host, port = admin.endpoint.rsplit(":", 1)
    value = {"conn_type": "flyte", "host": host, "port": int(port), "login": login, "password": password,
             "extra": {"project": PROJECT, "domain": DOMAIN, "retries": 1, "timeout": 10, **extra}}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(value))
    return FlyteHook(conn_id)


def test_client_credentials_over_tls_with_the_ca_file(secure_admin, monkeypatch):
    hook = connect(monkeypatch, secure_admin, "cc_tls", ca_cert_path=secure_admin.ca_cert_path)

    ok, message = hook.test_connection()

    assert ok, message


def test_the_token_is_reused_until_it_expires(secure_admin, monkeypatch):
    hook = connect(monkeypatch, secure_admin, "cc_reuse", ca_cert_path=secure_admin.ca_cert_path)
    before = secure_admin.tokens.issued

    for _ in range(5):
        assert hook.test_connection()[0]

    assert secure_admin.tokens.issued - before == 1


def test_a_refused_token_is_refreshed_once(secure_admin, monkeypatch):
    hook = connect(monkeypatch, secure_admin, "cc_refresh", ca_cert_path=secure_admin.ca_cert_path)
    assert hook.test_connection()[0]
    before = secure_admin.tokens.issued

    secure_admin.tokens.expire_all()

    assert hook.test_connection()[0]
    assert secure_admin.tokens.issued - before == 1


def test_a_wrong_secret_fails_without_showing_it(secure_admin, monkeypatch):
    hook = connect(monkeypatch, secure_admin, "cc_wrong", password="not-the-secret", ca_cert_path=secure_admin.ca_cert_path)

    ok, message = hook.test_connection()

    assert not ok and "HTTP 401" in message and "not-the-secret" not in message


def test_no_credentials_are_refused_by_the_admin(secure_admin, monkeypatch):
    hook = connect(monkeypatch, secure_admin, "no_auth", login=None, password=None, ca_cert_path=secure_admin.ca_cert_path)

    ok, message = hook.test_connection()

    assert not ok and "UNAUTHENTICATED" in message


def test_external_command_supplies_the_token(secure_admin, monkeypatch, tmp_path):
    token, _ = secure_admin.tokens.issue()
    (tmp_path / "token").write_text(token)
    command = [sys.executable, "-c", f"print(open({str(tmp_path / 'token')!r}).read())"]
    hook = connect(monkeypatch, secure_admin, "ext_cmd", login=None, password=None, auth_mode="external_command",
                   command=json.dumps(command), ca_cert_path=secure_admin.ca_cert_path)

    ok, message = hook.test_connection()

    assert ok, message


def test_tls_without_the_ca_is_refused(secure_admin, monkeypatch):
    hook = connect(monkeypatch, secure_admin, "tls_no_ca", retries=0, timeout=3)

    ok, message = hook.test_connection()

    assert not ok


def test_insecure_skip_verify_trusts_the_presented_certificate(secure_admin, monkeypatch):
    hook = connect(monkeypatch, secure_admin, "tls_skip", insecure_skip_verify=True)

    ok, message = hook.test_connection()

    assert ok, message


def test_plaintext_against_a_tls_admin_fails(secure_admin, monkeypatch):
    hook = connect(monkeypatch, secure_admin, "tls_plain", insecure=True, retries=0, timeout=3)

    assert not hook.test_connection()[0]


def test_tokens_are_masked_in_airflow_logs(secure_admin, monkeypatch):
    from airflow.sdk._shared.secrets_masker.secrets_masker import redact

    hook = connect(monkeypatch, secure_admin, "cc_masked", ca_cert_path=secure_admin.ca_cert_path)
    metadata = dict(hook.client.tokens.metadata())
    token = metadata["flyte-authorization"].removeprefix("Bearer ")

    assert token not in str(redact(f"calling with {token}"))


@pytest.mark.asyncio
async def test_the_trigger_authenticates_with_client_credentials_over_tls(secure_admin, monkeypatch):
    hook = connect(monkeypatch, secure_admin, "cc_async", ca_cert_path=secure_admin.ca_cert_path)
    target = hook.resolve_launch_plan(PROJECT, DOMAIN, "simple.double_wf")
    hook.launch(target, "secure-trigger", {"x": 2}, LaunchOptions())

    async for event in FlyteExecutionTrigger("cc_async", PROJECT, DOMAIN, "secure-trigger").run():
        parsed = FlyteTriggerEvent.parse(event.payload)
        break

    assert parsed.state.phase == "SUCCEEDED"


def interactive_config(admin, mode: str):
    from airflow_provider_flyte.hooks.connection import FlyteConnectionConfig

    host, port = admin.endpoint.rsplit(":", 1)
    return FlyteConnectionConfig.from_parts("interactive", host=host, port=int(port), login=None, password=None,
                                            extra={"auth_mode": mode, "ca_cert_path": admin.ca_cert_path})


@pytest.mark.parametrize("mode,cls", [("pkce", "PKCEAuthenticator"), ("device_flow", "DeviceCodeAuthenticator")])
def test_interactive_modes_use_flytekits_authenticators_once_logged_in(secure_admin, monkeypatch, mode, cls):
    from flytekit.clients.auth.keyring import Credentials, KeyringStore

    from airflow_provider_flyte.hooks.auth import flytekit_authenticator

    monkeypatch.setattr(KeyringStore, "retrieve", staticmethod(lambda endpoint: Credentials("cached")))
    assert type(flytekit_authenticator(interactive_config(secure_admin, mode))).__name__ == cls


@pytest.mark.parametrize("mode", ["pkce", "device_flow"])
def test_interactive_modes_refuse_to_wait_for_a_browser_on_a_headless_worker(secure_admin, monkeypatch, mode):
    from flytekit.clients.auth.keyring import KeyringStore

    from airflow_provider_flyte.exceptions import FlyteConnectionError
    from airflow_provider_flyte.hooks.auth import flytekit_authenticator

    monkeypatch.setattr(KeyringStore, "retrieve", staticmethod(lambda endpoint: None))
    with pytest.raises(FlyteConnectionError, match="airflow connections test interactive"):
        flytekit_authenticator(interactive_config(secure_admin, mode))
