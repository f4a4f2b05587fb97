"""The flyte connection: UI form, JSON and URI spellings all become one validated config."""

from __future__ import annotations

import json

import pytest
from airflow.sdk import Connection

from airflow_provider_flyte.exceptions import FlyteConnectionError
from airflow_provider_flyte.hooks.connection import FlyteConnectionConfig
from airflow_provider_flyte.hooks.flyte import config_from_connection


def config(**kw) -> FlyteConnectionConfig:
    base = {"host": "flyte.example.com", "port": None, "login": None, "password": None, "extra": {}}
    base.update(kw)
    return FlyteConnectionConfig.from_parts("c", **base)


def test_tls_is_the_default():
    assert config().insecure is False


def test_host_without_port_defaults_to_443():
    assert config().endpoint == "flyte.example.com:443"


def test_endpoint_extra_overrides_host_and_accepts_dns_scheme():
    assert config(extra={"endpoint": "dns:///admin.internal:81"}).endpoint == "admin.internal:81"


def test_uri_and_json_connections_give_the_same_config():
    uri = Connection.from_uri(
        "flyte://client:s%40cret@flyte.example.com:8089?insecure=true&project=p&domain=d&timeout=12&retries=3&scopes=all,admin",
        conn_id="c",
    )
    js = Connection.from_json(
        json.dumps(
            {
                "conn_type": "flyte",
                "host": "flyte.example.com",
                "port": 8089,
                "login": "client",
                "password": "s@cret",
                "extra": {"insecure": True, "project": "p", "domain": "d", "timeout": 12, "retries": 3, "scopes": ["all", "admin"]},
            }
        ),
        conn_id="c",
    )
    assert config_from_connection(uri, uri.extra_dejson) == config_from_connection(js, js.extra_dejson)


def test_login_and_password_imply_client_credentials():
    c = config(login="id", password="secret")
    assert c.auth_mode == "client_credentials" and c.client_id == "id"


def test_secret_is_not_in_the_repr():
    assert "topsecret" not in repr(config(login="id", password="topsecret"))


@pytest.mark.parametrize(
    "extra,field",
    [
        ({"insecure": "maybe"}, "insecure"),
        ({"timeout": "soon"}, "timeout"),
        ({"retries": "-1"}, "retries"),
        ({"auth_mode": "kerberos"}, "auth_mode"),
    ],
)
def test_bad_extras_name_the_field_and_the_value(extra, field):
    with pytest.raises(FlyteConnectionError) as err:
        config(extra=extra)
    assert field in str(err.value) and str(list(extra.values())[0]) in str(err.value)


def test_client_credentials_without_secret_is_refused():
    with pytest.raises(FlyteConnectionError, match="client secret"):
        config(extra={"auth_mode": "client_credentials"}, login="id")


def test_external_command_needs_a_command():
    with pytest.raises(FlyteConnectionError, match="command"):
        config(extra={"auth_mode": "external_command"})


def test_external_command_accepts_shell_words_and_json_lists():
    assert config(extra={"auth_mode": "external_command", "command": "get-token --aud flyte"}).command == (
        "get-token", "--aud", "flyte"
    )
    assert config(extra={"auth_mode": "external_command", "command": '["get-token", "x y"]'}).command == ("get-token", "x y")


def test_console_url_defaults_to_the_endpoint_scheme():
    assert config().execution_url("p", "d", "n") == "https://flyte.example.com:443/console/projects/p/domains/d/executions/n"
    assert config(extra={"insecure": "true"}).console_base() == "http://flyte.example.com:443"
    assert config(extra={"console_url": "https://ui.example.com/"}).console_base() == "https://ui.example.com"


@pytest.mark.parametrize(
    "flytekit_name,mode",
    [("Pkce", "pkce"), ("ClientSecret", "client_credentials"), ("ExternalCommand", "external_command"),
     ("DeviceFlow", "device_flow")],
)
def test_flytekit_auth_mode_names_from_0_0_5_connections_are_accepted(flytekit_name, mode):
    extra = {"auth_mode": flytekit_name, "command": "get-token"}
    assert config(login="id", password="pw", extra=extra).auth_mode == mode
