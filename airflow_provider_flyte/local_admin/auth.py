"""OAuth2 client-credentials auth, as a FlyteAdmin with its built-in authorization server does it.

Three parts, matching what flytekit's ClientSecret flow talks to:
- `AuthMetadataService` (anonymous): where the token endpoint is, and which metadata key to send;
- `TokenEndpoint`: an HTTP(S) endpoint on loopback issuing expiring bearer tokens to the one
  configured client (Basic auth `client_id:urlquote(secret)`, `grant_type=client_credentials`);
  it can play a slow, rate-limited or failing identity provider (`token_latency`, and
  `TokenIssuer.fail_next` / `outage`), and counts every request it receives;
- `BearerAuthInterceptor`: AdminService calls need `flyte-authorization: Bearer <token>` (or
  `authorization`), else UNAUTHENTICATED with flyteadmin's "token parse error ..." message.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import socket
import ssl
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from flyteidl.service import auth_pb2, auth_pb2_grpc

AUTH_METADATA_KEY = "flyte-authorization"
TOKEN_PATH = "/oauth2/token"
REQUIRED_SCOPE = "all"
_OUTAGE_STATUS = 503
_GUARDED_SERVICE = "/flyteidl.service.AdminService/"
_MISSING_TOKEN = "token parse error rpc error: code = Unauthenticated desc = Request unauthenticated with bearer"


@dataclass(frozen=True)
class ClientSecretAuth:
    """The one confidential client allowed to get tokens, and how long its tokens live (seconds).

    `token_latency` > 0 makes the token endpoint a slow identity provider: it answers one token
    request at a time, each taking that many seconds (callers queue, as at a rate-limited IdP).
    """

    client_id: str
    client_secret: str
    token_lifetime: float = 3600.0
    token_latency: float = 0.0

    def __post_init__(self) -> None:
        if self.token_latency < 0:
            raise ValueError(f"token_latency must be 0 or more, not {self.token_latency}")


class TokenIssuer:
    """Issues and checks opaque bearer tokens (the admin's `tokens`).

    Tests can count token requests and issued tokens, expire tokens early, and make the
    identity provider refuse requests (`fail_next`, `outage`).
    """

    def __init__(self, auth: ClientSecretAuth) -> None:
        self._auth = auth
        self._lock = threading.Lock()
        self._serial = threading.Lock()  # a slow IdP answers one request at a time
        self._expiry: dict[str, tuple[float, str]] = {}
        self._refusals: deque[int] = deque()
        self._outage_until = 0.0
        self.issued = 0
        self.requests = 0

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        """The next `n` token requests are answered with HTTP `status` (e.g. 503, 429), at once."""
        if not 400 <= int(status) <= 599:
            raise ValueError(f"status must be an HTTP error status (4xx or 5xx), not {status}")
        with self._lock:
            self._refusals.extend([int(status)] * n)

    def outage(self, seconds: float) -> None:
        """Every token request is answered 503 for the next `seconds`, at once (0 ends an outage now)."""
        with self._lock:
            self._outage_until = time.monotonic() + seconds if seconds > 0 else 0.0

    def received(self) -> int | None:
        """Counts a token request; returns the HTTP status to refuse it with, if a fault applies."""
        with self._lock:
            self.requests += 1
            if self._refusals:
                return self._refusals.popleft()
            if time.monotonic() < self._outage_until:
                return _OUTAGE_STATUS
            return None

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Around answering a token request: one at a time and `token_latency` slow, when set."""
        if not self._auth.token_latency:
            yield
            return
        with self._serial:
            time.sleep(self._auth.token_latency)
            yield

    def check_client(self, client_id: str, client_secret: str) -> bool:
        return secrets.compare_digest(client_id, self._auth.client_id) and secrets.compare_digest(
            client_secret, self._auth.client_secret
        )

    def issue(self) -> tuple[str, int]:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._expiry[token] = (time.monotonic() + self._auth.token_lifetime, self._auth.client_id)
            self.issued += 1
        return token, int(self._auth.token_lifetime)

    def subject(self, token: str) -> str | None:
        """The client a valid token was issued to; None for unknown or expired tokens."""
        with self._lock:
            expiry, subject = self._expiry.get(token, (0.0, ""))
        return subject if time.monotonic() < expiry else None

    def expire_all(self) -> None:
        """Makes every token issued so far invalid at once, as if their lifetime had passed."""
        with self._lock:
            self._expiry = {token: (0.0, subject) for token, (_, subject) in self._expiry.items()}


class TokenEndpoint:
    """The token endpoint on loopback (HTTPS when given a TLS context), on a thread of its own."""

    def __init__(
        self, issuer: TokenIssuer, host: str, tls: ssl.SSLContext | None = None, public_host: str | None = None
    ) -> None:
        """Binds `host`; its URLs name `public_host` (default `host`), where clients reach it."""
        server_class = _ThreadingHTTPServerV6 if ":" in host else ThreadingHTTPServer
        self._server = server_class((host, 0), _token_handler(issuer))
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        public_host = public_host or host
        if ":" in public_host:
            public_host = f"[{public_host}]"
        self.url = f"{scheme}://{public_host}:{self._server.server_port}{TOKEN_PATH}"
        self.issuer_url = f"{scheme}://{public_host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="token-endpoint", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _ThreadingHTTPServerV6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _token_handler(issuer: TokenIssuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path.split("?")[0] != TOKEN_PATH:
                return self._answer(404, {"error": "not_found"})
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            refusal = issuer.received()
            if refusal is not None:
                return self._answer(refusal, _refusal_body(refusal))
            with issuer.answering():
                self._grant(form)

        def _grant(self, form: dict[str, list[str]]) -> None:
            if not issuer.check_client(*_basic_credentials(self.headers.get("Authorization", ""))):
                return self._answer(401, {"error": "invalid_client"})
            if form.get("grant_type") != ["client_credentials"]:
                return self._answer(400, {"error": "unsupported_grant_type"})
            scopes = " ".join(form.get("scope", [REQUIRED_SCOPE])).split()
            if REQUIRED_SCOPE not in scopes:
                return self._answer(400, {"error": "invalid_scope"})
            token, lifetime = issuer.issue()
            self._answer(200, {"access_token": token, "token_type": "bearer", "expires_in": lifetime, "scope": "all"})

        def _answer(self, status: int, body: dict) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


def _refusal_body(status: int) -> dict[str, str]:
    error = "temporarily_unavailable" if status in (429, 503) else "server_error" if status >= 500 else "invalid_request"
    return {"error": error, "error_description": f"flyte-local-admin: injected HTTP {status}"}


def _basic_credentials(header: str) -> tuple[str, str]:
    """`Basic b64(id:urlquote(secret))`, the way flytekit encodes it; ("", "") if malformed."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        client_id, _, quoted_secret = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return "", ""
    return client_id, urllib.parse.unquote_plus(quoted_secret)


class AuthMetadataService(auth_pb2_grpc.AuthMetadataServiceServicer):
    def __init__(self, token_endpoint: TokenEndpoint, client_id: str) -> None:
        self._token_endpoint = token_endpoint
        self._client_id = client_id

    def GetOAuth2Metadata(self, request, context) -> auth_pb2.OAuth2MetadataResponse:
        return auth_pb2.OAuth2MetadataResponse(
            issuer=self._token_endpoint.issuer_url,
            token_endpoint=self._token_endpoint.url,
            scopes_supported=[REQUIRED_SCOPE],
            grant_types_supported=["client_credentials"],
            token_endpoint_auth_methods_supported=["client_secret_basic"],
            response_types_supported=["token"],
        )

    def GetPublicClientConfig(self, request, context) -> auth_pb2.PublicClientAuthConfigResponse:
        return auth_pb2.PublicClientAuthConfigResponse(
            client_id=self._client_id, scopes=[REQUIRED_SCOPE], authorization_metadata_key=AUTH_METADATA_KEY
        )


class BearerAuthInterceptor(grpc.ServerInterceptor):
    """Guards AdminService; everything else (AuthMetadataService) stays anonymous."""

    def __init__(self, issuer: TokenIssuer) -> None:
        self._issuer = issuer

    def intercept_service(self, continuation, handler_call_details):
        if not handler_call_details.method.startswith(_GUARDED_SERVICE):
            return continuation(handler_call_details)
        message = self._rejection(dict(handler_call_details.invocation_metadata or ()))
        if message is None:
            return continuation(handler_call_details)

        def reject(request, context: grpc.ServicerContext):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

        return grpc.unary_unary_rpc_method_handler(reject)

    def _rejection(self, metadata: dict[str, str]) -> str | None:
        token = bearer_token(metadata)
        if not token:
            return _MISSING_TOKEN
        if self._issuer.subject(token) is None:
            return "token parse error failed to validate token: token is unknown or expired"
        return None


def bearer_token(metadata: dict[str, str]) -> str:
    """The token of a `Bearer` header in either metadata key flyteadmin reads, or ""."""
    header = metadata.get(AUTH_METADATA_KEY) or metadata.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    return token if scheme.lower() == "bearer" else ""


def principal(issuer: TokenIssuer | None, context: grpc.ServicerContext) -> str:
    """The authenticated client behind a call (flyteadmin records it as principal), or ""."""
    if issuer is None:
        return ""
    token = bearer_token(dict(context.invocation_metadata() or ()))
    return (issuer.subject(token) if token else None) or ""
