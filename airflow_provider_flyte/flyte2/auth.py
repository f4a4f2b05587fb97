"""The ``authorization`` header a Flyte 2 call carries, per the connection's ``auth_mode``.

``none`` sends nothing and ``bearer`` the Password as it is. ``client_credentials`` and
``api_key`` get an OAuth2 token with the client-credentials grant from ``token_url`` (else the
token endpoint the server's AuthMetadataService advertises), the secret url-encoded inside Basic
auth as the flyte SDK sends it.

When to ask for a token is Flyte 1's ``hooks.auth.TokenCache``, not a second implementation:
single-flight (one request however many waits need a token at once, on the event loop without a
thread), renewed shortly before it expires, a failed request backed off 1 s to 60 s while a
still-valid token keeps serving, a refused token dropped only while it is still the current one.
Only obtaining the token is Flyte 2's (Connect discovery, its token request). Tokens, and the
client secret decoded from an API key, are registered with Airflow's secrets masker and never
logged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_flyte.exceptions import FlyteConnectionError
from airflow_provider_flyte.flyte2.connection import Flyte2ConnectionConfig
from airflow_provider_flyte.hooks.auth import TokenCache, _parse_token, _Token, basic_authorization

Metadata = tuple[tuple[str, str], ...]


class TokenSource(TokenCache):
    """The token of one Flyte 2 client: ``metadata()`` in a task, ``ametadata()`` in the triggerer."""

    def __init__(self, config: Flyte2ConnectionConfig) -> None:
        super().__init__()
        self._config = config
        self._token_url = config.token_url
        # Airflow masks the Password (the whole API key), not the secret decoded out of it.
        self._unmasked = config.decoded_secrets()

    @property
    def refreshable(self) -> bool:
        return self._config.auth_mode in ("client_credentials", "api_key")

    def _fixed(self) -> Metadata | None:
        if self._config.auth_mode == "bearer":
            return (("authorization", f"Bearer {self._config.secret}"),)
        return None if self.refreshable else ()

    # -- obtaining a token -------------------------------------------------------------------------

    def _request(self) -> tuple[str, dict[str, str], dict[str, str]]:
        assert self._token_url
        headers = {
            "Authorization": basic_authorization(self._config.client_id or "", self._config.secret or ""),
            "Accept": "application/json",
        }
        body = {"grant_type": "client_credentials"}
        if self._config.scopes:
            body["scope"] = " ".join(self._config.scopes)
        if self._config.audience:
            body["audience"] = self._config.audience
        return self._token_url, headers, body

    def _where(self) -> str:
        return f"The token endpoint {self._token_url} of connection {self._config.conn_id!r}"

    def _acquire(self, timeout: float | None) -> _Token:
        import httpx

        timeout = timeout or self._config.timeout
        if not self._token_url:
            self._token_url = self._discover(timeout)
        url, headers, body = self._request()
        with httpx.Client(timeout=timeout) as http:
            return _parse_token(http.post(url, headers=headers, data=body), self._where())

    async def _aacquire(self, timeout: float | None) -> _Token:
        import httpx

        timeout = timeout or self._config.timeout
        if not self._token_url:
            self._token_url = await self._adiscover(timeout)
        url, headers, body = self._request()
        async with httpx.AsyncClient(timeout=timeout) as http:
            return _parse_token(await http.post(url, headers=headers, data=body), self._where())

    # -- discovery ---------------------------------------------------------------------------------

    def _undiscovered(self, err: object) -> FlyteConnectionError:
        return FlyteConnectionError(
            f"Connection {self._config.conn_id!r} has no 'token_url' and {self._config.url} does not advertise "
            f"a token endpoint ({err}); set the token_url extra"
        )

    def _discover(self, timeout: float) -> str:
        """The token endpoint the server's (anonymous) AuthMetadataService advertises."""
        from flyteidl2.auth import auth_service_connect, auth_service_pb2

        try:
            with auth_service_connect.AuthMetadataServiceClientSync(self._config.url) as auth:
                answer = auth.get_o_auth2_metadata(auth_service_pb2.GetOAuth2MetadataRequest(), timeout_ms=int(timeout * 1000))
        except Exception as err:
            raise self._undiscovered(err) from err
        return _endpoint(answer, self._undiscovered)

    async def _adiscover(self, timeout: float) -> str:
        from flyteidl2.auth import auth_service_connect, auth_service_pb2

        try:
            async with auth_service_connect.AuthMetadataServiceClient(self._config.url) as auth:
                answer = await auth.get_o_auth2_metadata(
                    auth_service_pb2.GetOAuth2MetadataRequest(), timeout_ms=int(timeout * 1000)
                )
        except Exception as err:
            raise self._undiscovered(err) from err
        return _endpoint(answer, self._undiscovered)


def _endpoint(answer: Any, undiscovered: Callable[[object], Exception]) -> str:
    """A server without auth answers GetOAuth2Metadata with an empty token endpoint."""
    if not answer.token_endpoint:
        raise undiscovered("no token_endpoint in GetOAuth2Metadata")
    return str(answer.token_endpoint)
