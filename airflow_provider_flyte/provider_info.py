"""The provider-info dict Airflow discovers through the ``apache_airflow_provider`` entry point.

The connection form is declared here (``conn-fields`` / ``ui-field-behaviour``) so the
Airflow 3.2+ UI renders it without importing the hook; ``hooks/form.py`` hands the same form to
3.0 and 3.1, which ask the hook for it.
"""

from __future__ import annotations

from typing import Any

AUTH_MODES = ["none", "client_credentials", "pkce", "device_flow", "external_command"]


def _field(label: str, kind: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": [kind, "null"], **schema}}


CONN_FIELDS: dict[str, dict[str, Any]] = {
    "endpoint": _field(
        "Endpoint",
        "string",
        "FlyteAdmin gRPC endpoint, e.g. dns:///flyte.example.com:443. Overrides host and port.",
    ),
    "project": _field("Project", "string", "Default Flyte project for operators and sensors."),
    "domain": _field("Domain", "string", "Default Flyte domain for operators and sensors."),
    "auth_mode": _field(
        "Auth mode",
        "string",
        "How to authenticate to FlyteAdmin. client_credentials uses Login/Password as client id/secret.",
        enum=AUTH_MODES,
        default="none",
    ),
    "insecure": _field("Insecure (plaintext)", "boolean", "Use plaintext gRPC. TLS is the default.", default=False),
    "insecure_skip_verify": _field(
        "Skip TLS verification", "boolean", "Use TLS but do not verify the server certificate.", default=False
    ),
    "ca_cert_path": _field("CA certificate path", "string", "PEM file of the CA that signed the admin's certificate."),
    "scopes": _field("Scopes", "string", "OAuth2 scopes, comma separated (default: what the admin advertises, else all)."),
    "audience": _field("Audience", "string", "OAuth2 audience, if your identity provider needs one."),
    "command": _field(
        "Token command", "string", "external_command auth: a command that prints an access token (JSON list or shell words)."
    ),
    "console_url": _field("Console URL", "string", "Base URL of the Flyte console when it differs from the endpoint."),
    "timeout": _field("RPC timeout (s)", "number", "Deadline for each FlyteAdmin call.", default=30, minimum=1),
    "retries": _field(
        "Retries", "integer", "Retries of transient FlyteAdmin errors (exponential backoff).", default=5, minimum=0
    ),
}

FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema"],
    "relabeling": {"host": "FlyteAdmin host", "login": "Client ID", "password": "Client secret"},
    "placeholders": {
        "host": "flyte.example.com",
        "port": "443",
        "login": "OAuth2 client id (client_credentials)",
        "password": "OAuth2 client secret",
        "project": "flytesnacks",
        "domain": "development",
    },
}


# The ``flyte2`` connection type: Flyte 2 over Connect (airflow_provider_flyte/flyte2/connection.py).
FLYTE2_AUTH_MODES = ["none", "bearer", "client_credentials", "api_key"]
FLYTE2_CONN_FIELDS: dict[str, dict[str, Any]] = {
    "endpoint": _field(
        "Endpoint", "string", "Flyte 2 endpoint, e.g. https://flyte.example.com or localhost:30080. Overrides host and port."
    ),
    "org": _field("Organisation", "string", "Flyte 2 organisation (empty on open-source Flyte)."),
    "project": _field("Project", "string", "Default Flyte project for operators and sensors."),
    "domain": _field("Domain", "string", "Default Flyte domain for operators and sensors."),
    "auth_mode": _field(
        "Auth mode",
        "string",
        "none; bearer (Password is a token); client_credentials (Login/Password are the OAuth2 client); "
        "api_key (Password is a FLYTE_API_KEY).",
        enum=FLYTE2_AUTH_MODES,
        default="none",
    ),
    "insecure": _field("Insecure (plaintext HTTP)", "boolean", "Plaintext HTTP, as on the devbox. TLS is the default.", default=False),
    "token_url": _field("Token URL", "string", "OAuth2 token endpoint (default: what the server advertises)."),
    "scopes": _field("Scopes", "string", "OAuth2 scopes, comma separated."),
    "audience": _field("Audience", "string", "OAuth2 audience, if your identity provider needs one."),
    "console_url": _field("Console URL", "string", "Base URL of the Flyte 2 console when it differs from the endpoint."),
    "timeout": _field("Call timeout (s)", "number", "Deadline for each Flyte 2 call.", default=30, minimum=1),
    "retries": _field("Retries", "integer", "Retries of transient faults (exponential backoff).", default=5, minimum=0),
}
FLYTE2_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema"],
    "relabeling": {"host": "Flyte 2 host", "login": "Client ID", "password": "Client secret, token or API key"},
    "placeholders": {"host": "localhost", "port": "30080", "project": "flytesnacks", "domain": "development"},
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-flyte",
        "name": "Flyte",
        "description": "Launch and watch Flyte launch plans and tasks, and Flyte 2 runs, from Apache Airflow.",
        "versions": ["1.0.0.dev0"],
        "integrations": [
            {
                "integration-name": "Flyte",
                "external-doc-url": "https://flyte.org",
                "tags": ["software"],
            }
        ],
        "hooks": [{"integration-name": "Flyte", "python-modules": ["airflow_provider_flyte.hooks.flyte", "airflow_provider_flyte.flyte2.hook"]}],
        "operators": [{"integration-name": "Flyte", "python-modules": ["airflow_provider_flyte.operators.flyte", "airflow_provider_flyte.operators.signals", "airflow_provider_flyte.flyte2.operator"]}],
        "sensors": [{"integration-name": "Flyte", "python-modules": ["airflow_provider_flyte.sensors.flyte", "airflow_provider_flyte.sensors.signals", "airflow_provider_flyte.flyte2.sensor"]}],
        "triggers": [{"integration-name": "Flyte", "python-modules": ["airflow_provider_flyte.triggers.flyte", "airflow_provider_flyte.triggers.events", "airflow_provider_flyte.triggers.signals", "airflow_provider_flyte.flyte2.trigger"]}],
        "extra-links": ["airflow_provider_flyte.links.flyte.FlyteExecutionLink", "airflow_provider_flyte.flyte2.link.Flyte2RunLink"],
        "asset-uris": [
            {
                "schemes": ["flyte"],
                "handler": "airflow_provider_flyte.lineage.assets.sanitize_uri",
                "to_openlineage_converter": "airflow_provider_flyte.lineage.assets.convert_asset_to_openlineage",
            }
        ],
        "connection-types": [
            {
                "connection-type": "flyte",
                "hook-class-name": "airflow_provider_flyte.hooks.flyte.FlyteHook",
                "hook-name": "Flyte",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": FIELD_BEHAVIOUR,
            },
            {
                "connection-type": "flyte2",
                "hook-class-name": "airflow_provider_flyte.flyte2.hook.Flyte2Hook",
                "hook-name": "Flyte 2",
                "conn-fields": FLYTE2_CONN_FIELDS,
                "ui-field-behaviour": FLYTE2_FIELD_BEHAVIOUR,
            },
        ],
    }
