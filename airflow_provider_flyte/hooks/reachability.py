"""Why a FlyteAdmin that never answered cannot be reached, found in a second instead of 16.

A channel that has never reached its FlyteAdmin and fails with UNAVAILABLE (or runs out of time)
is far more often misconfigured than down: a wrong port or host, TLS against a plaintext admin or
the reverse, a private certificate without ``ca_cert_path``. Retrying that for the connection's
whole backoff only delays a raw gRPC error. So on that first failure the endpoint is probed once,
cheaply (name resolution, a TCP connect, one TLS ClientHello, and when TLS is expected a verified
handshake, each bounded by ``PROBE_TIMEOUT``), and what it finds is raised at once as
``FlyteAdminUnreachable``, with the gRPC error as its cause.

If the probe finds nothing wrong (the admin listens and speaks what the connection expects: a
server-side UNAVAILABLE, a slow first answer), the channel counts as having answered and the call
is retried as before. A channel that has answered once is never probed again: its outages are
retried and, in waits, waited out, as always.

What is decided here without I/O (``FirstContact``: when to probe, what a finding means) serves the
blocking and the asyncio client alike; ``probe`` is the only I/O, blocking, and the asyncio client
runs it in a thread.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import FlyteAdminUnreachable

if TYPE_CHECKING:
    from airflow_provider_flyte.hooks.connection import FlyteConnectionConfig

PROBE_TIMEOUT = 1.0
# A probe's answer is reused for this long: concurrent calls failing together share one probe.
PROBE_REUSE = 2.0
# Status codes a channel gets without any server having answered it.
UNANSWERED_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED"})
# What the far end sent back to a TLS ClientHello.
TLS, PLAINTEXT, SILENT, CLOSED = "tls", "plaintext", "silent", "closed"

_CHECK_ADDRESS = "check the connection's host and port (FlyteAdmin's gRPC port), and that FlyteAdmin is running"


@dataclass(frozen=True)
class Finding:
    """What is wrong with an endpoint, in words, and the likely fix."""

    problem: str
    fix: str
    outage_possible: bool = False

    def error(self, config: FlyteConnectionConfig) -> FlyteAdminUnreachable:
        return FlyteAdminUnreachable(
            config.conn_id, config.endpoint, self.problem, self.fix, outage_possible=self.outage_possible
        )


def _code_name(error: BaseException) -> str | None:
    code = getattr(error, "code", None)
    if not callable(code):
        return None
    try:
        return getattr(code(), "name", None)
    except Exception:
        return None


class FirstContact:
    """Whether a client's channel has ever reached its FlyteAdmin, and when to probe it.

    Not I/O: on a failed call the clients ask ``needs_probe``; under their probe lock ``settled``
    (maybe a probe is not due after all), else they run ``probe`` (blocking, or in a thread) and
    record it with ``probed``; ``conclude`` raises the finding or lets the call's own error (and
    its retries) go on.
    """

    def __init__(self) -> None:
        self.answered = False
        self._last: tuple[float, Finding | None] | None = None

    def saw(self, error: BaseException | None = None) -> None:
        """A call returned (``error`` None) or failed with an answer only a server gives."""
        if error is None or _code_name(error) not in UNANSWERED_CODES:
            self.answered = True

    def needs_probe(self, error: BaseException) -> bool:
        return not self.answered and _code_name(error) in UNANSWERED_CODES

    def settled(self) -> tuple[bool, Finding | None]:
        """Asked under the client's probe lock: (True, finding) when no probe is due, because a
        probe moments ago found ``finding`` (calls failing together probe once) or because the
        channel answered meanwhile; (False, None) when the endpoint must be probed now."""
        if self._last is not None and time.monotonic() - self._last[0] < PROBE_REUSE:
            return True, self._last[1]
        return self.answered, None

    def probed(self, finding: Finding | None) -> None:
        """Nothing found means the endpoint is right: from now on the channel counts as having
        answered, and its failures are retried (and waited out) like any transient one."""
        self._last = (time.monotonic(), finding)
        if finding is None:
            self.answered = True

    @staticmethod
    def conclude(config: FlyteConnectionConfig, finding: Finding | None, error: BaseException) -> None:
        """Raise what the probe found, caused by the call's ``error``; else let ``error`` go on."""
        if finding is not None:
            raise finding.error(config) from error


# -- what an answer means (no I/O) ---------------------------------------------------------------


def classify_greeting(first_bytes: bytes) -> str:
    """What answered a TLS ClientHello: a TLS record (handshake 0x16 or alert 0x15, version 3.x),
    anything else (an HTTP/2 SETTINGS frame from a plaintext gRPC server, ``HTTP/1.1 400``...),
    or nothing."""
    if not first_bytes:
        return CLOSED
    if first_bytes[0] in (0x15, 0x16) and (len(first_bytes) < 2 or first_bytes[1] == 0x03):
        return TLS
    return PLAINTEXT


def protocol_finding(config: FlyteConnectionConfig, spoken: str) -> Finding | None:
    """A mismatch between what the connection expects and what the server speaks."""
    if spoken == TLS and config.insecure:
        return Finding(
            "the server speaks TLS",
            "set `insecure` to false (and `ca_cert_path` if its certificate is private)",
        )
    if spoken == PLAINTEXT and not config.insecure:
        return Finding("the server answered in plaintext", "set `insecure` to true")
    if spoken == SILENT:
        host, port = _address(config)
        return Finding(
            f"{host}:{port} accepted the connection but answered neither TLS nor gRPC within {PROBE_TIMEOUT:g} s",
            "check that this is FlyteAdmin's gRPC port (not a hung server or another service)",
            outage_possible=True,
        )
    return None


def certificate_finding(config: FlyteConnectionConfig, error: ssl.SSLCertVerificationError) -> Finding:
    host, _ = _address(config)
    reason = error.verify_message or error.reason or str(error)
    if error.verify_code in (62, 64):  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
        return Finding(
            f"the server's certificate is not valid for {host} ({reason})",
            "connect by a name the certificate lists, or set `insecure_skip_verify` to true",
        )
    if config.ca_cert_path:
        return Finding(
            f"certificate not trusted ({reason}; `ca_cert_path` {config.ca_cert_path} did not sign it)",
            "set `ca_cert_path` to the PEM file of the CA that signed the admin's certificate, "
            "or `insecure_skip_verify` to true",
        )
    return Finding(
        f"certificate not trusted ({reason})",
        "set `ca_cert_path` to the PEM file of the CA that signed it, or `insecure_skip_verify` to true",
    )


def _address(config: FlyteConnectionConfig) -> tuple[str, int]:
    from airflow_provider_flyte.hooks.channels import host_port

    return host_port(config.endpoint)


# -- the probe (blocking I/O) --------------------------------------------------------------------


def probe(config: FlyteConnectionConfig, timeout: float = PROBE_TIMEOUT) -> Finding | None:
    """Resolve, connect, greet, verify: the first step that fails says what is wrong; None when
    the endpoint is reachable and speaks what the connection expects."""
    host, port = _address(config)
    addresses = _resolve(host, port, timeout)
    if isinstance(addresses, Finding):
        return addresses
    connected = _connect(addresses, host, port, timeout)
    if isinstance(connected, Finding):
        return connected
    with connected:
        spoken = _greet(connected, host, timeout)
    finding = protocol_finding(config, spoken)
    if finding is None and spoken == TLS and not config.insecure and not config.insecure_skip_verify:
        finding = _verify(config, host, port, timeout)
    return finding


def _resolve(host: str, port: int, timeout: float) -> list[Any] | Finding:
    """getaddrinfo has no timeout of its own: it runs in a daemon thread we stop waiting for."""
    result: list[Any] = []

    def lookup() -> None:
        try:
            result.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as err:
            result.append(err)

    worker = threading.Thread(target=lookup, name="flyte-probe-dns", daemon=True)
    worker.start()
    worker.join(timeout)
    if not result:
        return Finding(
            f"the host name {host} did not resolve within {timeout:g} s", "check DNS on this machine", outage_possible=True
        )
    answer = result[0]
    if isinstance(answer, socket.gaierror) and answer.errno in (socket.EAI_AGAIN, getattr(socket, "EAI_SYSTEM", None)):
        return Finding(f"the host name {host} cannot be resolved now ({answer.strerror})", "check DNS on this machine",
                       outage_possible=True)
    if isinstance(answer, OSError):
        return Finding(f"unknown host {host}", "check the connection's host (or `endpoint`) for a typo")
    return answer


def _connect(addresses: list[Any], host: str, port: int, timeout: float) -> socket.socket | Finding:
    failures: list[OSError] = []
    for family, kind, proto, _, address in addresses[:4]:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            return sock
        except OSError as err:
            sock.close()
            failures.append(err)
    if all(isinstance(err, ConnectionRefusedError) for err in failures):
        return Finding(f"nothing listens on {host}:{port}", _CHECK_ADDRESS, outage_possible=True)
    if any(isinstance(err, TimeoutError) for err in failures):
        return Finding(
            f"nothing answered a connection to {host}:{port} within {timeout:g} s (a firewall, or the wrong host)",
            _CHECK_ADDRESS,
            outage_possible=True,
        )
    last = failures[-1]
    return Finding(f"cannot connect to {host}:{port} ({last.strerror or last})", _CHECK_ADDRESS, outage_possible=True)


def _client_hello(host: str) -> bytes:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=None if _is_ip(host) else host)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def _greet(sock: socket.socket, host: str, timeout: float) -> str:
    """Send a TLS ClientHello and read what comes back. A plaintext gRPC server sends its HTTP/2
    SETTINGS frame at once, a TLS server its ServerHello."""
    sock.settimeout(timeout)
    try:
        sock.sendall(_client_hello(host))
        return classify_greeting(sock.recv(16))
    except TimeoutError:
        return SILENT
    except OSError:
        return CLOSED


def _roots_file(config: FlyteConnectionConfig) -> str | None:
    """The CA bundle grpc verifies with: the connection's, else grpc's own (not the system's)."""
    if config.ca_cert_path:
        return config.ca_cert_path
    if os.environ.get("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"):
        return os.environ["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"]
    import grpc

    bundled = os.path.join(os.path.dirname(grpc.__file__), "_cython", "_credentials", "roots.pem")
    return bundled if os.path.exists(bundled) else None


def _verify(config: FlyteConnectionConfig, host: str, port: int, timeout: float) -> Finding | None:
    """A verified TLS handshake, with the trust grpc uses; only a certificate problem is reported."""
    try:
        context = ssl.create_default_context(cafile=_roots_file(config))
        context.set_alpn_protocols(["h2"])
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host):
                return None
    except ssl.SSLCertVerificationError as err:
        return certificate_finding(config, err)
    except (OSError, ValueError):
        return None


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
