"""gRPC channels to FlyteAdmin: TLS by default, a private CA, or (explicitly) no verification.

One function decides credentials and options; the sync and asyncio channels are built from it.
"""

from __future__ import annotations

import ssl
from typing import Any

import grpc

from airflow_provider_flyte.exceptions import FlyteConnectionError
from airflow_provider_flyte.hooks.connection import FlyteConnectionConfig

_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 60_000),
]


ChannelSettings = tuple[grpc.ChannelCredentials | None, list[tuple[str, Any]]]
DEFAULT_PORT = 443


def host_port(endpoint: str) -> tuple[str, int]:
    """``host:port`` (or ``[v6]:port``); a bare host means port 443, as flytekit assumes."""
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit() or host.endswith(":"):
        return endpoint.strip("[]"), DEFAULT_PORT
    return host.strip("[]"), int(port)


def _presented_certificate(endpoint: str, timeout: float) -> tuple[bytes, str]:
    """The server's own certificate and the name it was issued to.

    ``insecure_skip_verify`` trusts exactly what the server presents (as flytekit does), and
    overrides the expected host name with the certificate's, so a name mismatch does not fail.
    """
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    pem = ssl.get_server_certificate(host_port(endpoint), timeout=timeout).encode()
    cert = x509.load_pem_x509_certificate(pem)
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = names.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        dns = []
    common = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return pem, str((dns or common or [host_port(endpoint)[0]])[0])


def _read_ca(config: FlyteConnectionConfig) -> bytes:
    try:
        with open(config.ca_cert_path or "", "rb") as ca:
            return ca.read()
    except OSError as err:
        raise FlyteConnectionError(
            f"Flyte connection {config.conn_id!r}: cannot read `ca_cert_path` {config.ca_cert_path}: {err.strerror or err}"
        ) from err


def channel_settings(config: FlyteConnectionConfig) -> ChannelSettings:
    """Credentials and options. ``None`` credentials mean plaintext, which only ``insecure`` asks for.

    May do network I/O (``insecure_skip_verify``): the triggerer calls it in a thread. When that
    fails (nothing listens, a plaintext server), the endpoint is probed and the finding raised.
    """
    options = list(_OPTIONS)
    if config.insecure:
        return None, options
    if config.ca_cert_path:
        return grpc.ssl_channel_credentials(root_certificates=_read_ca(config)), options
    if config.insecure_skip_verify:
        try:
            pem, name = _presented_certificate(config.endpoint, config.timeout)
        except OSError as err:  # ssl.SSLError and socket.timeout included
            from airflow_provider_flyte.hooks.reachability import probe

            finding = probe(config)
            if finding is None:
                raise
            raise finding.error(config) from err
        options.append(("grpc.ssl_target_name_override", name))
        return grpc.ssl_channel_credentials(root_certificates=pem), options
    return grpc.ssl_channel_credentials(), options


def sync_channel(config: FlyteConnectionConfig) -> grpc.Channel:
    creds, options = channel_settings(config)
    if creds is None:
        return grpc.insecure_channel(config.endpoint, options=options)
    return grpc.secure_channel(config.endpoint, creds, options=options)


def async_channel(config: FlyteConnectionConfig, settings: ChannelSettings) -> grpc.aio.Channel:
    creds, options = settings
    if creds is None:
        return grpc.aio.insecure_channel(config.endpoint, options=options)
    return grpc.aio.secure_channel(config.endpoint, creds, options=options)
