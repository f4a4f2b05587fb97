"""Turning an Airflow connection into a validated FlyteAdmin client configuration.

The same connection arrives from the UI form (typed extras), JSON (typed or string extras) or a
URI (every extra a string), so every extra is coerced here, once, for both the sync hook and the
async trigger client. A bad value names the field, the accepted values and what was given.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_flyte.exceptions import FlyteConnectionError
from airflow_provider_flyte.provider_info import AUTH_MODES

# flytekit's AuthType spellings, which airflow-provider-flyte 0.0.5 connections carry.
FLYTEKIT_AUTH_MODES = {
    "standard": "pkce",
    "clientsecret": "client_credentials",
    "basic": "client_credentials",
    "externalcommand": "external_command",
    "external_process": "external_command",
    "deviceflow": "device_flow",
}
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 5
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise FlyteConnectionError(f"Connection extra {name!r} must be true or false, got {value!r}")


def _as_number(name: str, value: Any, kind: Callable[[Any], float | int], minimum: float) -> Any:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = kind(value)
    except (TypeError, ValueError):
        raise FlyteConnectionError(
            f"Connection extra {name!r} must be a {kind.__name__} >= {minimum}, got {value!r}"
        ) from None
    if number < minimum:
        raise FlyteConnectionError(f"Connection extra {name!r} must be a {kind.__name__} >= {minimum}, got {value!r}")
    return number


def _as_words(name: str, value: Any) -> tuple[str, ...]:
    """A command or scope list given as a JSON list, a list, or a (shell / comma separated) string."""
    if value is None or value == "":
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return tuple(str(v) for v in json.loads(text))
            except json.JSONDecodeError:
                raise FlyteConnectionError(f"Connection extra {name!r} is not a valid JSON list: {value!r}") from None
        if name == "scopes":
            return tuple(s.strip() for s in text.replace(" ", ",").split(",") if s.strip())
        return tuple(shlex.split(text))
    raise FlyteConnectionError(f"Connection extra {name!r} must be a list or a string, got {value!r}")


def extras_of(extra: Mapping[str, Any] | None, conn_type: str) -> dict[str, Any]:
    """The connection's extras; Airflow 2 style forms prefix them (``extra__flyte__``): accept both."""
    return {k.removeprefix(f"extra__{conn_type}__"): v for k, v in dict(extra or {}).items()}


def auth_mode_of(
    extra: Mapping[str, Any], login: str | None, password: str | None, modes: list[str], aliases: Mapping[str, str]
) -> str:
    """The ``auth_mode`` extra, normalised (``client-credentials``, other spellings in ``aliases``);
    without one, ``client_credentials`` when Login and Password are set, else ``none``."""
    auth_mode = str(extra.get("auth_mode") or ("client_credentials" if login and password else "none"))
    auth_mode = auth_mode.strip().lower().replace("-", "_")
    auth_mode = aliases.get(auth_mode, auth_mode)
    if auth_mode not in modes:
        raise FlyteConnectionError(f"Connection extra 'auth_mode' must be one of {list(modes)}, got {auth_mode!r}")
    return auth_mode


def common_fields(extra: Mapping[str, Any]) -> dict[str, Any]:
    """The fields ``flyte`` and ``flyte2`` connections read alike: defaults, console, call budget."""
    return {
        "project": extra.get("project") or None,
        "domain": extra.get("domain") or None,
        "scopes": _as_words("scopes", extra.get("scopes")),
        "audience": extra.get("audience") or None,
        "console_url": (extra.get("console_url") or "").rstrip("/") or None,
        "timeout": float(_as_number("timeout", extra.get("timeout", DEFAULT_TIMEOUT), float, 0.1)),
        "retries": int(_as_number("retries", extra.get("retries", DEFAULT_RETRIES), int, 0)),
    }


def _endpoint(host: str | None, port: int | None, endpoint: str | None) -> str:
    """``host:port`` for grpc from either the endpoint extra (``dns:///h:p`` allowed) or host/port."""
    target = (endpoint or "").strip()
    if target:
        for prefix in ("dns:///", "dns://", "grpcs://", "grpc://", "https://", "http://"):
            if target.startswith(prefix):
                target = target[len(prefix) :]
                break
        return target.rstrip("/")
    if not host:
        raise FlyteConnectionError("Flyte connection needs a host (or an 'endpoint' extra), got none")
    host = host.strip()
    for prefix in ("dns:///", "grpcs://", "grpc://", "https://", "http://"):
        if host.startswith(prefix):
            host = host[len(prefix) :]
    if ":" in host and port is None:
        return host
    return f"{host}:{port or 443}"


@dataclass(frozen=True)
class FlyteConnectionConfig:
    """Everything needed to reach and authenticate to one FlyteAdmin. Never logged whole."""

    conn_id: str
    endpoint: str
    project: str | None = None
    domain: str | None = None
    auth_mode: str = "none"
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    insecure: bool = False
    insecure_skip_verify: bool = False
    ca_cert_path: str | None = None
    scopes: tuple[str, ...] = ()
    audience: str | None = None
    command: tuple[str, ...] = ()
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
    ) -> FlyteConnectionConfig:
        extra = extras_of(extra, "flyte")
        auth_mode = auth_mode_of(extra, login, password, AUTH_MODES, FLYTEKIT_AUTH_MODES)
        if auth_mode == "client_credentials" and not (login and password):
            raise FlyteConnectionError(
                "auth_mode client_credentials needs the client id in Login and the client secret in Password"
            )
        command = _as_words("command", extra.get("command"))
        if auth_mode == "external_command" and not command:
            raise FlyteConnectionError("auth_mode external_command needs the 'command' extra, got none")
        insecure = _as_bool("insecure", extra.get("insecure", False))
        return cls(
            conn_id=conn_id,
            endpoint=_endpoint(host, port, extra.get("endpoint")),
            auth_mode=auth_mode,
            client_id=login or None,
            client_secret=password or None,
            insecure=insecure,
            insecure_skip_verify=_as_bool("insecure_skip_verify", extra.get("insecure_skip_verify", False)),
            ca_cert_path=extra.get("ca_cert_path") or None,
            command=command,
            **common_fields(extra),
        )

    def console_base(self) -> str:
        if self.console_url:
            return self.console_url
        scheme = "http" if self.insecure else "https"
        return f"{scheme}://{self.endpoint}"

    def execution_url(self, project: str, domain: str, name: str) -> str:
        return f"{self.console_base()}/console/projects/{project}/domains/{domain}/executions/{name}"
