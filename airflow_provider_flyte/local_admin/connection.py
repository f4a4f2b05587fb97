"""The Airflow connection that reaches a running local admin, as a dict and as shell lines.

`flyte-local-admin` prints it when it starts; tests and demos get the same from
`LocalFlyteAdmin.airflow_connection()` / `airflow_connection_text()`. It matches the admin's
mode exactly: plaintext (`insecure: true`), TLS (its CA file as `ca_cert_path`), client
credentials (client id as login, secret as password, `auth_mode: client_credentials`), and
the admin's project and domain as the connection's defaults.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

CONN_TYPE = "flyte"
DEFAULT_CONN_ID = "flyte_conn"


def airflow_connection(
    host: str,
    port: int,
    project: str,
    domain: str,
    ca_cert_path: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> dict[str, Any]:
    """Airflow's JSON form of the connection (the value of an `AIRFLOW_CONN_<ID>` variable).

    Without `ca_cert_path` the admin serves plaintext, so the connection says `insecure: true`
    (the provider defaults to TLS). The provider builds console links from host and port, which
    is where the admin serves its console too, so no `console_url` is needed.
    """
    extra: dict[str, Any] = {"project": project, "domain": domain}
    if ca_cert_path:
        extra["ca_cert_path"] = ca_cert_path
    else:
        extra["insecure"] = True
    connection: dict[str, Any] = {"conn_type": CONN_TYPE, "host": host, "port": port}
    if client_id is not None:
        connection["login"] = client_id
        connection["password"] = client_secret or ""
        extra["auth_mode"] = "client_credentials"
    connection["extra"] = extra
    return connection


def env_var_name(conn_id: str) -> str:
    """`AIRFLOW_CONN_` and the connection id upper-cased, as Airflow looks it up."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def describe_mode(connection: dict[str, Any]) -> str:
    """`plaintext` or `TLS`, and the auth, in words for the header line."""
    extra = connection["extra"]
    transport = "plaintext" if extra.get("insecure") else "TLS with the admin's CA file"
    auth = "client credentials" if extra.get("auth_mode") == "client_credentials" else "no auth"
    return f"{transport}, {auth}"


def connection_lines(connection: dict[str, Any], conn_id: str = DEFAULT_CONN_ID) -> list[str]:
    """The connection as an environment variable and as an `airflow connections add` command.

    Both are single shell lines, quoted with `shlex.quote`, so they paste into a shell as they are.
    """
    env = f"export {env_var_name(conn_id)}={shlex.quote(json.dumps(connection))}"
    words = ["airflow", "connections", "add", conn_id, "--conn-type", connection["conn_type"]]
    words += ["--conn-host", connection["host"], "--conn-port", str(connection["port"])]
    if "login" in connection:
        words += ["--conn-login", connection["login"], "--conn-password", connection["password"]]
    words += ["--conn-extra", json.dumps(connection["extra"])]
    return [env, " ".join(shlex.quote(word) for word in words)]


def connection_text(connection: dict[str, Any], conn_id: str = DEFAULT_CONN_ID) -> str:
    """What `flyte-local-admin` prints: a header naming the mode, then the two lines, indented."""
    lines = connection_lines(connection, conn_id)
    header = f"Airflow connection {conn_id!r} ({describe_mode(connection)}), either of:"
    return "\n".join([header, *(f"  {line}" for line in lines)])
