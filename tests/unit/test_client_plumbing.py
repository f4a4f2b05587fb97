"""Pure pieces of the client: endpoints, error classification, token responses."""

from __future__ import annotations

import grpc
import httpx
import pytest

from airflow_provider_flyte.exceptions import FlyteConnectionError, FlyteTokenEndpointUnavailable
from airflow_provider_flyte.hooks.auth import _parse_token
from airflow_provider_flyte.hooks.channels import host_port
from airflow_provider_flyte.hooks.retry import is_transient


@pytest.mark.parametrize(
    "endpoint,expected",
    [("flyte.example.com:81", ("flyte.example.com", 81)), ("flyte.example.com", ("flyte.example.com", 443)),
     ("[::1]:8089", ("::1", 8089)), ("::1", ("::1", 443))],
)
def test_endpoints_without_a_port_mean_443(endpoint, expected):
    assert host_port(endpoint) == expected


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), FlyteTokenEndpointUnavailable("503")],
)
def test_failures_to_reach_the_identity_provider_are_transient(error):
    assert is_transient("GetExecution", error)


def test_a_refused_client_is_not_transient():
    assert not is_transient("GetExecution", FlyteConnectionError("HTTP 401"))


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_token_endpoint_overload_is_reported_as_transient(status):
    with pytest.raises(FlyteTokenEndpointUnavailable):
        _parse_token(httpx.Response(status, json={"error": "busy"}))


def test_token_endpoint_refusal_names_the_status_and_error():
    with pytest.raises(FlyteConnectionError, match="HTTP 401.*invalid_client"):
        _parse_token(httpx.Response(401, json={"error": "invalid_client"}))


def test_token_lifetime_comes_from_expires_in():
    token = _parse_token(httpx.Response(200, json={"access_token": "t", "expires_in": 7200}))
    assert token.value == "t" and token.fresh


def test_grpc_errors_keep_their_classification():
    class Unavailable(grpc.RpcError):
        def code(self):
            return grpc.StatusCode.UNAVAILABLE

    assert is_transient("CreateExecution", Unavailable())


@pytest.mark.parametrize("lifetime,renewed_after", [(3600, 3570), (60, 54), (3, 2.7)])
def test_a_token_is_renewed_before_it_expires_but_not_on_every_call(lifetime, renewed_after):
    token = _parse_token(httpx.Response(200, json={"access_token": "t", "expires_in": lifetime}))

    assert token.renew_at - (token.expires_at - lifetime) == pytest.approx(renewed_after, abs=0.01)
