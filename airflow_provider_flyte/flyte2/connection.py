"""The ``flyte2`` Airflow connection: which Flyte 2 endpoint, who we are there, and defaults.

A connection type of its own (not a field on ``flyte`` connections) says which API a connection
speaks: a ``flyte`` connection is FlyteAdmin over gRPC, a ``flyte2`` one is Flyte 2's RunService
over Connect (HTTP). The fields:

- Host / Port, or the ``endpoint`` extra: ``localhost:30080``, ``dns:///flyte.example.com``,
  ``https://flyte.example.com``. ``insecure`` true means plaintext HTTP (the devbox).
- ``auth_mode``: ``none``; ``bearer`` (Password is an access token); ``client_credentials``
  (Login / Password are the OAuth2 client id / secret); ``api_key`` (Password is a
  ``FLYTE_API_KEY``: base64 of ``endpoint:client_id:client_secret:org``, which also gives the
  endpoint and organisation when the connection does not). The token endpoint is the
  ``token_url`` extra, else what the server's AuthMetadataService advertises.
- ``org``, ``project``, ``domain``: defaults for operators and sensors (``org`` may stay empty:
  open-source Flyte 2 has one organisation).
- ``console_url``, ``timeout`` (seconds per call), ``retries`` (of transient faults), ``scopes``,
  ``audience``.

Secrets (Password, the API key, tokens) are never in ``repr`` and never logged.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_flyte.exceptions import FlyteConnectionError
from airflow_provider_flyte.hooks.connection import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    _as_bool,
    auth_mode_of,
    common_fields,
    extras_of,
)
from airflow_provider_flyte.provider_info import FLYTE2_AUTH_MODES as AUTH_MODES

CONN_TYPE = "flyte2"


def decode_api_key(value: str) -> tuple[str, str, str, str]:
    """``FLYTE_API_KEY`` → (endpoint, client id, client secret, org).

    Split from the right, so an endpoint with colons (``dns:///host:443``) survives; an org of
    ``None`` (what the SDK writes for no org) is empty.
    """
    try:
        decoded = base64.b64decode(value.strip().encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise FlyteConnectionError("The API key in Password is not base64 (expected a FLYTE_API_KEY value)") from None
    parts = decoded.rsplit(":", 3)
    if len(parts) != 4 or not all(parts[:3]):
        raise FlyteConnectionError(
            "The API key in Password does not decode to endpoint:client_id:client_secret:org "
            f"({len(parts)} part(s) found)"
        )
    endpoint, client_id, client_secret, org = parts
    return endpoint, client_id, client_secret, "" if org == "None" else org


def base_url(endpoint: str, insecure: bool) -> str:
    """The HTTP base URL Connect calls go to, from any way people write a Flyte endpoint."""
    target = endpoint.strip().rstrip("/")
    if target.startswith(("http://", "https://")):
        return target
    for prefix in ("dns:///", "dns://", "grpcs://", "grpc://"):
        if target.startswith(prefix):
            target = target[len(prefix) :]
            break
    return f"{'http' if insecure else 'https'}://{target}"


@dataclass(frozen=True)
class Flyte2ConnectionConfig:
    """Everything needed to reach and authenticate to one Flyte 2 endpoint. Never logged whole."""

    conn_id: str
    url: str
    org: str = ""
    project: str | None = None
    domain: str | None = None
    auth_mode: str = "none"
    client_id: str | None = None
    secret: str | None = field(default=None, repr=False)  # the token (bearer) or client secret
    token_url: str | None = None
    scopes: tuple[str, ...] = ()
    audience: str | None = None
    console_url: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES

    @classmethod
    def from_parts(
        cls,
        conn_id: str,
        *,
        host: str | None,
        port: int | None,
        login: str | None,
        password: str | None,
        extra: Mapping[str, Any] | None,
    ) -> Flyte2ConnectionConfig:
        extra = extras_of(extra, CONN_TYPE)
        auth_mode = auth_mode_of(extra, login, password, AUTH_MODES, {})
        org = str(extra.get("org") or "")
        endpoint = str(extra.get("endpoint") or "")
        client_id, secret = login or None, password or None
        if auth_mode in ("bearer", "api_key") and not password:
            raise FlyteConnectionError(f"auth_mode {auth_mode} needs the {'token' if auth_mode == 'bearer' else 'API key'} in Password")
        if auth_mode == "client_credentials" and not (login and password):
            raise FlyteConnectionError("auth_mode client_credentials needs the client id in Login and the secret in Password")
        if auth_mode == "api_key":
            key_endpoint, client_id, secret, key_org = decode_api_key(str(password))
            endpoint = endpoint or ("" if host else key_endpoint)
            org = org or key_org
        if not endpoint:
            if not host:
                raise FlyteConnectionError("Flyte 2 connection needs a host (or an 'endpoint' extra), got none")
            endpoint = host.strip() if port is None else f"{host.strip()}:{port}"
        insecure = _as_bool("insecure", extra.get("insecure", False))
        return cls(
            conn_id=conn_id,
            url=base_url(endpoint, insecure),
            org=org,
            auth_mode=auth_mode,
            client_id=client_id,
            secret=secret,
            token_url=extra.get("token_url") or None,
            **common_fields(extra),
        )

    def decoded_secrets(self) -> tuple[str, ...]:
        """Secrets Airflow does not already mask: it masks the Password, so the whole API key, but
        not the client secret decoded out of it. The token source masks these before first use
        (here, building the config may run on the triggerer's event loop, where masking differs)."""
        return (self.secret,) if self.auth_mode == "api_key" and self.secret else ()

    def run_url(self, project: str, domain: str, name: str) -> str:
        """The run's page in the Flyte 2 console (the SDK's ``Console.run_url`` layout)."""
        return f"{self.console_url or self.url}/v2/domain/{domain}/project/{project}/runs/{name}"
