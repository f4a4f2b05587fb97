"""Bearer tokens for FlyteAdmin, obtained the way flytekit obtains them.

- ``none``: no metadata.
- ``client_credentials``: discover the token endpoint and the metadata key through the anonymous
  AuthMetadataService (GetOAuth2Metadata, GetPublicClientConfig), then the OAuth2
  client-credentials grant with Basic auth of the url-quoted secret, as flytekit sends it. The
  token is cached until shortly before it expires, and refreshed once when the admin answers
  UNAUTHENTICATED. Implemented here (sync and async) rather than through flytekit, so the
  triggerer never blocks its event loop.
- ``external_command``: run the configured command and use what it prints.
- ``pkce`` / ``device_flow``: flytekit's own authenticators (browser or device code, tokens kept
  in the keyring). They need a person the first time; afterwards the keyring's refresh token lets
  a worker on that machine run unattended.

Tokens are registered with Airflow's secrets masker (the connection password already is) and
never logged.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from airflow_provider_flyte.compat import amask_secret, mask_secret
from airflow_provider_flyte.exceptions import FlyteConnectionError, FlyteTokenEndpointUnavailable
from airflow_provider_flyte.hooks.connection import FlyteConnectionConfig

DEFAULT_METADATA_KEY = "flyte-authorization"
# A token is renewed this long before it expires (at most a tenth of its lifetime, so short-lived
# tokens are not renewed on every call).
_EXPIRY_MARGIN = 30.0
_FOREVER = float("inf")
# After a failed token request, wait before the next one: 1 s, 2 s, 4 s ... up to a minute. Every
# caller in the meantime gets the same failure at once (or the old token while it is still valid),
# so an identity-provider outage costs one request per backoff step, not one per waiting task.
_BACKOFF_INITIAL = 1.0
_BACKOFF_MAX = 60.0


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float
    renew_at: float

    @classmethod
    def lasting(cls, value: str, lifetime: float) -> _Token:
        now = time.monotonic()
        return cls(value, now + lifetime, now + lifetime - min(_EXPIRY_MARGIN, lifetime / 10))

    @property
    def fresh(self) -> bool:
        return time.monotonic() < self.renew_at

    @property
    def valid(self) -> bool:
        return time.monotonic() < self.expires_at


@dataclass(frozen=True)
class _Discovery:
    """What the admin's AuthMetadataService says; fields flytekit reads from the same answers."""

    token_endpoint: str = ""
    metadata_key: str = DEFAULT_METADATA_KEY
    scopes: tuple[str, ...] = ()
    audience: str = ""


def _discovered(public: Any, oauth2: Any) -> _Discovery:
    return _Discovery(
        token_endpoint=oauth2.token_endpoint,
        metadata_key=public.authorization_metadata_key or DEFAULT_METADATA_KEY,
        scopes=tuple(public.scopes),
        audience=public.audience,
    )


def basic_authorization(client_id: str, client_secret: str) -> str:
    """The ``Authorization`` header of a client-credentials grant, as flytekit and the flyte SDK send
    it: the secret ``quote_plus``-encoded before Basic auth (RFC 6749 2.3.1), so a secret with
    ``:``, ``+``, ``/`` or ``=`` reaches the identity provider unchanged. Flyte 1 and 2 share it."""
    secret = urllib.parse.quote_plus(client_secret)
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _token_request(config: FlyteConnectionConfig, discovery: _Discovery) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and form body of the client-credentials grant, as flytekit builds them: the secret
    ``quote_plus``-encoded inside Basic auth; the connection's scopes/audience, else the admin's."""
    headers = {"Authorization": basic_authorization(config.client_id or "", config.client_secret or ""), "Accept": "application/json"}
    body = {"grant_type": "client_credentials", "scope": " ".join(config.scopes or discovery.scopes or ("all",))}
    if audience := config.audience or discovery.audience:
        body["audience"] = audience
    return headers, body


def _parse_token(response: Any, where: str = "Flyte token endpoint") -> _Token:
    """``where``: how errors name the endpoint (Flyte 2 adds its URL and the connection)."""
    try:
        payload = response.json()
    except ValueError:
        payload = response.text[:200]
    if response.status_code >= 500 or response.status_code == 429:
        raise FlyteTokenEndpointUnavailable(f"{where} answered HTTP {response.status_code}; will retry")
    if response.status_code != 200 or not isinstance(payload, dict) or "access_token" not in payload:
        detail = payload.get("error", payload) if isinstance(payload, dict) else payload
        raise FlyteConnectionError(f"{where} refused the client credentials (HTTP {response.status_code}): {detail}")
    return _Token.lasting(str(payload["access_token"]), float(payload.get("expires_in", 3600)))


def _verify(config: FlyteConnectionConfig) -> Any:
    if config.insecure_skip_verify:
        return False
    return config.ca_cert_path or True


class TokenCache:
    """When to ask for a bearer token, whoever issues it: Flyte 1's ``TokenSource`` below and
    Flyte 2's (``flyte2.auth``) differ only in how they obtain one (the ``_acquire`` pair).

    One instance serves every call of its client, and in the triggerer one client serves every
    wait on a connection, so obtaining a token is single-flight: however many calls need one at
    once, one request goes to the identity provider and the others wait for its answer (on the
    event loop behind an ``asyncio.Lock``, never a thread). A token is renewed shortly before it
    expires (``_Token.lasting``). A failed request is not repeated before its backoff step has
    passed; meanwhile a token that has not expired yet is still used, and without one every
    caller gets the same failure at once. A refused token is dropped only while it is still the
    current one, so many calls refused at once cost one new token, not one each. Tokens are
    registered with Airflow's secrets masker as they arrive.
    """

    def __init__(self) -> None:
        self._token: _Token | None = None
        self._failure: Exception | None = None
        self._failures = 0
        self._retry_at = 0.0
        # Re-entrant: Airflow calls on_kill from a SIGTERM handler, possibly mid token fetch.
        self._lock = threading.RLock()
        self._alock: asyncio.Lock | None = None
        self._unmasked: tuple[str, ...] = ()

    # -- what a subclass says --------------------------------------------------------------------

    @property
    def refreshable(self) -> bool:
        """Whether a refused token is worth replacing (a fixed one is not)."""
        raise NotImplementedError

    def _fixed(self) -> tuple[tuple[str, str], ...] | None:
        """The metadata of a mode that needs no token from anyone; None when this one does."""
        return None

    def _key(self) -> str:
        """The metadata key the token goes in."""
        return "authorization"

    def _acquire(self, timeout: float | None) -> _Token:
        raise NotImplementedError

    async def _aacquire(self, timeout: float | None) -> _Token:
        raise NotImplementedError

    def _take_unmasked(self) -> tuple[str, ...]:
        """Secrets to mask before the first token request (ones Airflow does not mask itself)."""
        pending, self._unmasked = self._unmasked, ()
        return pending

    # -- the cache -----------------------------------------------------------------------------

    def invalidate(self, refused: tuple[tuple[str, str], ...]) -> None:
        """Forget the token the server refused, unless another call has already replaced it."""
        if self._token is not None and refused == self._header():
            self._token = None

    def _header(self) -> tuple[tuple[str, str], ...]:
        assert self._token is not None
        return ((self._key(), f"Bearer {self._token.value}"),)

    def _cached(self) -> tuple[tuple[str, str], ...] | None:
        """The header to send without asking anyone: a fresh token, or during a backoff a valid one."""
        token = self._token
        if token is None:
            return None
        if token.fresh or (time.monotonic() < self._retry_at and token.valid):
            return self._header()
        return None

    def _check_backoff(self) -> None:
        if self._failure is not None and time.monotonic() < self._retry_at:
            raise self._failure.with_traceback(None)

    def _failed(self, err: Exception) -> tuple[tuple[str, str], ...]:
        self._failure = err
        self._failures += 1
        self._retry_at = time.monotonic() + min(_BACKOFF_MAX, _BACKOFF_INITIAL * 2 ** (self._failures - 1))
        if self._token is not None and self._token.valid:
            return self._header()
        raise err

    def _obtained(self, token: _Token) -> None:
        self._token, self._failure, self._failures, self._retry_at = token, None, 0, 0.0

    def metadata(self, timeout: float | None = None) -> tuple[tuple[str, str], ...]:
        """``timeout``: the calling RPC's deadline, which bounds discovery and the token request too."""
        if (fixed := self._fixed()) is not None:
            return fixed
        with self._lock:
            if (header := self._cached()) is not None:
                return header
            self._check_backoff()
            for secret in self._take_unmasked():
                mask_secret(secret)
            try:
                token = self._acquire(timeout)
            except Exception as err:
                return self._failed(err)
            mask_secret(token.value)
            self._obtained(token)
            return self._header()

    async def ametadata(self, timeout: float | None = None) -> tuple[tuple[str, str], ...]:
        """``metadata`` for the event loop: a fresh token costs no await, a fetch no thread."""
        if (fixed := self._fixed()) is not None:
            return fixed
        if (header := self._cached()) is not None:
            return header
        if self._alock is None:
            self._alock = asyncio.Lock()
        async with self._alock:
            if (header := self._cached()) is not None:
                return header
            self._check_backoff()
            for secret in self._take_unmasked():
                await amask_secret(secret)
            try:
                token = await self._aacquire(timeout)
            except Exception as err:
                return self._failed(err)
            await amask_secret(token.value)
            self._obtained(token)
            return self._header()


class TokenSource(TokenCache):
    """Supplies the authorization metadata for one FlyteAdmin client's calls, sync or async."""

    def __init__(self, config: FlyteConnectionConfig, channel: Any) -> None:
        super().__init__()
        self._config = config
        self._channel = channel
        self._discovery: _Discovery | None = None
        self._authenticator: Any = None

    @property
    def refreshable(self) -> bool:
        return self._config.auth_mode != "none"

    def _fixed(self) -> tuple[tuple[str, str], ...] | None:
        return () if self._config.auth_mode == "none" else None

    def _key(self) -> str:
        return (self._discovery or _Discovery()).metadata_key

    def _acquire(self, timeout: float | None) -> _Token:
        if self._discovery is None:
            self._discovery = self._discover(timeout)
        return self._obtain(timeout)

    async def _aacquire(self, timeout: float | None) -> _Token:
        if self._discovery is None:
            self._discovery = await self._adiscover(timeout)
        return await self._aobtain(timeout)

    def _obtain(self, timeout: float | None = None) -> _Token:
        mode = self._config.auth_mode
        if mode == "client_credentials":
            return self._fetch(timeout)
        return self._run_command() if mode == "external_command" else self._interactive()

    async def _aobtain(self, timeout: float | None = None) -> _Token:
        mode = self._config.auth_mode
        if mode == "client_credentials":
            return await self._afetch(timeout)
        return await asyncio.to_thread(self._run_command if mode == "external_command" else self._interactive)

    # -- external command ---------------------------------------------------------------------

    def _run_command(self) -> _Token:
        done = subprocess.run(list(self._config.command), capture_output=True, text=True, timeout=60)
        if done.returncode != 0 or not done.stdout.strip():
            raise FlyteConnectionError(
                f"Token command {self._config.command[0]!r} failed with exit code {done.returncode}"
            )
        # Command tokens carry no expiry we can read; reuse until the admin refuses one.
        return _Token(done.stdout.strip(), _FOREVER, _FOREVER)

    # -- discovery and client credentials --------------------------------------------------------

    def _stubs_and_requests(self) -> tuple[Any, Any, Any]:
        from flyteidl.service import auth_pb2, auth_pb2_grpc

        stub = auth_pb2_grpc.AuthMetadataServiceStub(self._channel)
        return stub, auth_pb2.PublicClientAuthConfigRequest(), auth_pb2.OAuth2MetadataRequest()

    def _discovery_optional(self, err: Exception) -> _Discovery:
        """An admin without AuthMetadataService still works with an external command's token."""
        from airflow_provider_flyte.hooks.retry import status_code

        if self._config.auth_mode == "external_command" and status_code(err) is not None:
            return _Discovery()
        raise err

    def _discover(self, timeout: float | None = None) -> _Discovery:
        stub, public_request, oauth2_request = self._stubs_and_requests()
        timeout = timeout or self._config.timeout
        try:
            return _discovered(
                stub.GetPublicClientConfig(public_request, timeout=timeout),
                stub.GetOAuth2Metadata(oauth2_request, timeout=timeout),
            )
        except Exception as err:
            return self._discovery_optional(err)

    async def _adiscover(self, timeout: float | None = None) -> _Discovery:
        stub, public_request, oauth2_request = self._stubs_and_requests()
        timeout = timeout or self._config.timeout
        try:
            return _discovered(
                await stub.GetPublicClientConfig(public_request, timeout=timeout),
                await stub.GetOAuth2Metadata(oauth2_request, timeout=timeout),
            )
        except Exception as err:
            return self._discovery_optional(err)

    def _fetch(self, timeout: float | None = None) -> _Token:
        import httpx

        assert self._discovery is not None
        headers, body = _token_request(self._config, self._discovery)
        with httpx.Client(verify=_verify(self._config), timeout=timeout or self._config.timeout) as http:
            return _parse_token(http.post(self._discovery.token_endpoint, headers=headers, data=body))

    async def _afetch(self, timeout: float | None = None) -> _Token:
        import httpx

        assert self._discovery is not None
        headers, body = _token_request(self._config, self._discovery)
        async with httpx.AsyncClient(verify=_verify(self._config), timeout=timeout or self._config.timeout) as http:
            return _parse_token(await http.post(self._discovery.token_endpoint, headers=headers, data=body))

    # -- pkce / device flow ------------------------------------------------------------------------

    def _interactive(self) -> _Token:
        """flytekit's PKCE or device-code authenticator, with its keyring-cached credentials."""
        if self._authenticator is None:
            self._authenticator = flytekit_authenticator(self._config)
        self._authenticator.refresh_credentials()
        key, value = self._authenticator.fetch_grpc_call_auth_metadata()
        self._discovery = dataclasses.replace(self._discovery or _Discovery(), metadata_key=key or DEFAULT_METADATA_KEY)
        return _Token(value.removeprefix("Bearer "), _FOREVER, _FOREVER)


def flytekit_authenticator(config: FlyteConnectionConfig) -> Any:
    """PKCE / device-code login as flytekit does it. Without a keyring-cached login and without a
    terminal, it refuses instead of waiting forever for a browser nobody will open."""
    import sys

    from flytekit.clients.auth.authenticator import DeviceCodeAuthenticator, PKCEAuthenticator
    from flytekit.clients.auth.keyring import KeyringStore
    from flytekit.clients.auth_helper import RemoteClientConfigStore

    from airflow_provider_flyte.hooks.channels import sync_channel

    if KeyringStore.retrieve(config.endpoint) is None and not sys.stdin.isatty():
        raise FlyteConnectionError(
            f"auth_mode {config.auth_mode!r} needs a person to log in once: run `airflow connections test "
            f"{config.conn_id}` in a terminal on this machine; the keyring then keeps the refresh token"
        )
    store = RemoteClientConfigStore(sync_channel(config))
    scopes = list(config.scopes)
    if config.auth_mode == "pkce":
        return PKCEAuthenticator(config.endpoint, store, scopes=scopes, verify=_verify(config))
    return DeviceCodeAuthenticator(
        endpoint=config.endpoint, cfg_store=store, audience=config.audience, scopes=scopes, verify=_verify(config)
    )
