"""Bearer tokens for FlyteAdmin, the way flytekit obtains them, without flytekit's heavy client.

- ``none``: no metadata.
- ``client_credentials``: discover the token endpoint through the anonymous AuthMetadataService,
  then the OAuth2 client-credentials grant (Basic auth with the url-quoted secret, as flytekit
  sends it); the token is cached until shortly before it expires and refreshed once when the
  admin answers UNAUTHENTICATED.
- ``external_command``: run the configured command and use what it prints.
- ``pkce`` / ``device_flow`` need a person at a browser; they are refused on workers and
  triggerers with a message saying so.

Tokens are registered with Airflow's secrets masker (the connection password already is) and
never logged.
"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from airflow_provider_flyte.exceptions import FlyteConnectionError
from airflow_provider_flyte.hooks.connection import FlyteConnectionConfig

_EXPIRY_MARGIN = 30.0
_INTERACTIVE_MODES = ("pkce", "device_flow")


def _mask(value: str | None) -> None:
    if value:
        from airflow.sdk.log import mask_secret

        mask_secret(value)


async def _amask(value: str | None) -> None:
    """The event-loop-safe twin: the sync masker can deadlock inside the triggerer."""
    if value:
        from airflow.sdk.log import amask_secret

        await amask_secret(value)


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float

    @property
    def fresh(self) -> bool:
        return time.monotonic() < self.expires_at - _EXPIRY_MARGIN


def _token_request(config: FlyteConnectionConfig) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and form body of the client-credentials grant, identical for sync and async."""
    secret = urllib.parse.quote(config.client_secret or "")
    basic = base64.b64encode(f"{config.client_id}:{secret}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", "Accept": "application/json"}
    body = {"grant_type": "client_credentials", "scope": " ".join(config.scopes)}
    if config.audience:
        body["audience"] = config.audience
    return headers, body


def _parse_token(payload: Any, status: int) -> _Token:
    if status != 200 or not isinstance(payload, dict) or "access_token" not in payload:
        detail = payload.get("error", payload) if isinstance(payload, dict) else payload
        raise FlyteConnectionError(f"Flyte token endpoint refused the client credentials (HTTP {status}): {detail}")
    return _Token(str(payload["access_token"]), time.monotonic() + float(payload.get("expires_in", 3600)))


def _verify(config: FlyteConnectionConfig) -> Any:
    if config.insecure_skip_verify:
        return False
    return config.ca_cert_path or True


class TokenSource:
    """Supplies the ``flyte-authorization`` metadata for one connection, sync or async."""

    def __init__(self, config: FlyteConnectionConfig, channel: Any) -> None:
        if config.auth_mode in _INTERACTIVE_MODES:
            raise FlyteConnectionError(
                f"auth_mode {config.auth_mode!r} needs a person at a browser and cannot run on an Airflow "
                "worker or triggerer; use client_credentials or external_command"
            )
        self._config = config
        self._channel = channel
        self._token: _Token | None = None
        self._token_endpoint: str | None = None
        self._lock = threading.Lock()

    @property
    def refreshable(self) -> bool:
        return self._config.auth_mode != "none"

    def invalidate(self) -> None:
        self._token = None

    def _header(self) -> tuple[tuple[str, str], ...]:
        assert self._token is not None
        return (("flyte-authorization", f"Bearer {self._token.value}"),)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        mode = self._config.auth_mode
        if mode == "none":
            return ()
        with self._lock:
            if self._token is None or not self._token.fresh:
                self._token = self._run_command() if mode == "external_command" else self._fetch()
                _mask(self._token.value)
            return self._header()

    async def ametadata(self) -> tuple[tuple[str, str], ...]:
        mode = self._config.auth_mode
        if mode == "none":
            return ()
        if self._token is None or not self._token.fresh:
            if mode == "external_command":
                self._token = await asyncio.to_thread(self._run_command)
            else:
                self._token = await self._afetch()
            await _amask(self._token.value)
        return self._header()

    def _run_command(self) -> _Token:
        done = subprocess.run(list(self._config.command), capture_output=True, text=True, timeout=60)
        if done.returncode != 0 or not done.stdout.strip():
            raise FlyteConnectionError(
                f"Token command {self._config.command[0]!r} failed with exit code {done.returncode}"
            )
        token = done.stdout.strip()
        # Command tokens carry no expiry we can read; reuse until the admin refuses one.
        return _Token(token, float("inf"))

    def _discovery_stub(self) -> Any:
        from flyteidl.service import auth_pb2_grpc

        return auth_pb2_grpc.AuthMetadataServiceStub(self._channel)

    def _fetch(self) -> _Token:
        import httpx
        from flyteidl.service import auth_pb2

        if self._token_endpoint is None:
            meta = self._discovery_stub().GetOAuth2Metadata(
                auth_pb2.OAuth2MetadataRequest(), timeout=self._config.timeout
            )
            self._token_endpoint = meta.token_endpoint
        headers, body = _token_request(self._config)
        with httpx.Client(verify=_verify(self._config), timeout=self._config.timeout) as http:
            response = http.post(self._token_endpoint, headers=headers, data=body)
        return _parse_token(_json(response), response.status_code)

    async def _afetch(self) -> _Token:
        import httpx
        from flyteidl.service import auth_pb2

        if self._token_endpoint is None:
            meta = await self._discovery_stub().GetOAuth2Metadata(
                auth_pb2.OAuth2MetadataRequest(), timeout=self._config.timeout
            )
            self._token_endpoint = meta.token_endpoint
        headers, body = _token_request(self._config)
        async with httpx.AsyncClient(verify=_verify(self._config), timeout=self._config.timeout) as http:
            response = await http.post(self._token_endpoint, headers=headers, data=body)
        return _parse_token(_json(response), response.status_code)


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:200]
