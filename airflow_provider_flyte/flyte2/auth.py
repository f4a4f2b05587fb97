"""The ``authorization`` header a Flyte 2 call carries, per the connection's ``auth_mode``.

``bearer`` sends the Password as it is. ``client_credentials`` and ``api_key`` get an OAuth2
token with the client-credentials grant from ``token_url`` (else the token endpoint the
server's AuthMetadataService advertises), keep it until shortly before it expires, and get a new
one when the server answers UNAUTHENTICATED. Tokens are never logged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from airflow_provider_flyte.exceptions import FlyteConnectionError, FlyteTokenEndpointUnavailable
from airflow_provider_flyte.flyte2.connection import Flyte2ConnectionConfig

EARLY_REFRESH = 60.0  # seconds before expiry a token counts as stale
DEFAULT_LIFETIME = 300.0


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float

    @property
    def fresh(self) -> bool:
        return time.monotonic() < self.expires_at - EARLY_REFRESH


class TokenSource:
    """One token per client, obtained on first use (single-flight across threads)."""

    def __init__(self, config: Flyte2ConnectionConfig, discover: Callable[[], str]) -> None:
        self._config = config
        self._discover = discover
        self._token: Token | None = None
        self._token_url = config.token_url
        self._lock = threading.Lock()

    @property
    def needed(self) -> bool:
        return self._config.auth_mode in ("client_credentials", "api_key")

    def headers(self) -> dict[str, str]:
        if self._config.auth_mode == "bearer":
            return {"authorization": f"Bearer {self._config.secret}"}
        if not self.needed:
            return {}
        with self._lock:
            if self._token is None or not self._token.fresh:
                self._token = self._fetch()
            return {"authorization": f"Bearer {self._token.value}"}

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _fetch(self) -> Token:
        import httpx

        if not self._token_url:
            self._token_url = self._discover()
        data = {"grant_type": "client_credentials"}
        if self._config.scopes:
            data["scope"] = " ".join(self._config.scopes)
        if self._config.audience:
            data["audience"] = self._config.audience
        response = httpx.post(
            self._token_url,
            data=data,
            auth=(self._config.client_id or "", self._config.secret or ""),
            timeout=self._config.timeout,
        )
        if response.status_code >= 500 or response.status_code == 429:
            raise FlyteTokenEndpointUnavailable(
                f"The token endpoint {self._token_url} answered {response.status_code} for connection {self._config.conn_id!r}"
            )
        if response.status_code != 200:
            raise FlyteConnectionError(
                f"The token endpoint {self._token_url} refused the client credentials of connection "
                f"{self._config.conn_id!r} ({response.status_code})"
            )
        body = response.json()
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise FlyteConnectionError(f"The token endpoint {self._token_url} answered without an access_token")
        lifetime = float(body.get("expires_in") or DEFAULT_LIFETIME)
        return Token(value, time.monotonic() + lifetime)
