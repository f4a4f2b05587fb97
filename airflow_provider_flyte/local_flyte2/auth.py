"""Optional client-credentials auth: an OAuth2 token endpoint on the service's own port, and every call but
the auth metadata ones needing ``authorization: Bearer <token>``, as a Flyte 2 deployment behind an
identity provider does. Off by default (the service is anonymous).

The token endpoint is ``POST /oauth2/token`` (form ``grant_type=client_credentials``, the client's id
and secret by HTTP basic auth, each form-urlencoded first as RFC 6749 says, or in the form),
answering ``{"access_token", "token_type": "Bearer", "expires_in"}``;
AuthMetadataService.GetOAuth2Metadata advertises it, as clients discover it there.
"""

from __future__ import annotations

import base64
import contextvars
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext

TOKEN_PATH = "/oauth2/token"
ANONYMOUS = "anonymous"
# Who is calling, for the call being served: set by the auth interceptor, read by AbortRun's abort_info.
principal: contextvars.ContextVar[str] = contextvars.ContextVar("principal", default=ANONYMOUS)
# Calls a client makes before it has a token: how it finds the token endpoint.
_OPEN_SERVICES = frozenset({"flyteidl2.auth.AuthMetadataService"})


@dataclass(frozen=True)
class ClientCredentials:
    """The one OAuth2 client the service accepts, and how long its tokens last."""

    client_id: str
    client_secret: str
    token_lifetime: float = 3600.0


class TokenIssuer:
    """Issues and checks bearer tokens (kept in memory; thread-safe, as tests read it from their thread)."""

    def __init__(self, credentials: ClientCredentials) -> None:
        self.credentials = credentials
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self.requests = 0
        self.issued = 0

    def issue(self, client_id: str, client_secret: str) -> str | None:
        """A new token for the right id and secret, else None."""
        with self._lock:
            self.requests += 1
            ok = secrets.compare_digest(client_id, self.credentials.client_id) and secrets.compare_digest(
                client_secret, self.credentials.client_secret
            )
            if not ok:
                return None
            token = secrets.token_urlsafe(32)
            self._tokens[token] = (client_id, time.monotonic() + self.credentials.token_lifetime)
            self.issued += 1
            return token

    def principal_of(self, authorization: str | None) -> str:
        """The client an ``authorization`` header's token was issued to; unauthenticated when it has none valid."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ConnectError(Code.UNAUTHENTICATED, "authorization header with a bearer token is required")
        with self._lock:
            entry = self._tokens.get(token.strip())
        if entry is None or entry[1] <= time.monotonic():
            raise ConnectError(Code.UNAUTHENTICATED, "the access token is invalid or has expired")
        return entry[0]

    def expire_all(self) -> None:
        with self._lock:
            self._tokens.clear()


class AuthInterceptor:
    """Refuses calls without a valid token (except the auth metadata ones) and records who made them."""

    def __init__(self, issuer: TokenIssuer) -> None:
        self._issuer = issuer

    def _check(self, ctx: RequestContext) -> None:
        if ctx.method().service_name in _OPEN_SERVICES:
            return
        principal.set(self._issuer.principal_of(ctx.request_headers().get("authorization")))

    async def intercept_unary(self, call_next: Callable[[Any, RequestContext], Awaitable[Any]], request: Any, ctx: RequestContext) -> Any:
        self._check(ctx)
        return await call_next(request, ctx)

    async def intercept_server_stream(
        self, call_next: Callable[[Any, RequestContext], AsyncIterator[Any]], request: Any, ctx: RequestContext
    ) -> AsyncIterator[Any]:
        self._check(ctx)
        async for response in call_next(request, ctx):
            yield response


def _client_of(headers: dict[bytes, bytes], form: dict[str, list[str]]) -> tuple[str, str]:
    """The client id and secret of a token request: HTTP basic auth, else the form's fields.

    In Basic auth both are form-urlencoded first (RFC 6749 2.3.1), as the flyte SDK and flytekit
    encode the secret, so they are decoded as an identity provider does: a client whose secret
    has ``+``, ``/``, ``=`` or ``:`` and that sends it raw is refused here as it would be there."""
    scheme, _, encoded = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
            return unquote_plus(client_id), unquote_plus(client_secret)
        except ValueError:
            return "", ""
    return form.get("client_id", [""])[0], form.get("client_secret", [""])[0]


def token_response(issuer: TokenIssuer, headers: dict[bytes, bytes], body: bytes) -> tuple[int, dict[str, Any]]:
    """The status and JSON body answering a POST to the token endpoint (RFC 6749's client-credentials grant)."""
    form = parse_qs(body.decode("utf-8", "replace"))
    if form.get("grant_type", [""])[0] != "client_credentials":
        return 400, {"error": "unsupported_grant_type"}
    token = issuer.issue(*_client_of(headers, form))
    if token is None:
        return 401, {"error": "invalid_client"}
    return 200, {"access_token": token, "token_type": "Bearer", "expires_in": int(issuer.credentials.token_lifetime)}
