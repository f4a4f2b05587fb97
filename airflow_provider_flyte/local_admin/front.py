"""One port for gRPC and the console: a front that looks at each connection's first bytes.

grpcio's server cannot be handed an accepted socket, nor serve HTTP/1.1, so the admin's public
port is owned by this front instead. For each connection it peeks (without consuming) at what
the client sent first:

- plaintext admin: an HTTP/1.x request line (`GET /console ...`, an upper-case method other
  than HTTP/2's `PRI` preface) is served here, as HTTP/1.1;
- TLS admin: a TLS ClientHello whose ALPN list offers `http/1.1` (browsers, curl, urllib) or
  no ALPN at all is terminated here with the admin's certificate and served as HTTPS;
  gRPC clients offer only `h2` (and `grpc-exp`);
- everything else (gRPC, and also a TLS client at a plaintext admin or the reverse) is passed
  through byte for byte to the gRPC server on an internal loopback port, so gRPC clients see
  exactly what they saw when gRPC owned the port, TLS handshake and errors included.

Closing the front closes the port and every connection through it, as a stopped gRPC server
does; a new front can bind the same port again at once.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable

_log = logging.getLogger(__name__)

SNIFF_TIMEOUT = 30.0  # a client that connects and says nothing is dropped after this
_CHUNK = 256 * 1024
_TLS_HANDSHAKE = 0x16
_CLIENT_HELLO = 0x01
_ALPN_EXTENSION = 0x0010
_HTTP2_PREFACE_START = b"PRI"

HttpServe = Callable[[socket.socket, tuple], None]


class PortFront:
    """Listens on `(host, port)`; HTTP/1.1 goes to `serve_http`, the rest to `upstream`."""

    def __init__(
        self,
        host: str,
        port: int,
        upstream: tuple[str, int],
        serve_http: HttpServe,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._upstream = upstream
        self._serve_http = serve_http
        self._tls = tls
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._closed = False
        self._listener = _listen(host, port)
        self.port: int = self._listener.getsockname()[1]
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._thread = threading.Thread(target=self._accept_loop, name="admin-front", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Closes the port and every connection accepted through it (gRPC and HTTP alike)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            connections = list(self._connections)
            self._connections.clear()
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"x")
        self._thread.join(timeout=10)
        for connection in connections:
            # Only shut down: the thread serving it closes it, so no descriptor is closed under it.
            # The plain socket method, also for TLS sockets, whose own shutdown drops their state.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(connection, socket.SHUT_RDWR)

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            try:
                while True:
                    ready = {key.fileobj for key, _ in selector.select()}
                    if self._wake_reader in ready:
                        return
                    try:
                        connection, address = self._listener.accept()
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        _log.exception("accepting a connection failed")
                        time.sleep(0.05)  # e.g. out of file descriptors: do not spin
                        continue
                    if not self._track(connection):
                        _drop(connection)
                        return
                    threading.Thread(
                        target=self._route, args=(connection, address), name="admin-front-conn", daemon=True
                    ).start()
            finally:
                self._listener.close()
                self._wake_reader.close()
                self._wake_writer.close()

    def _track(self, connection: socket.socket) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._connections.add(connection)
            return True

    def _untrack(self, *connections: socket.socket) -> None:
        with self._lock:
            self._connections.difference_update(connections)

    def _route(self, connection: socket.socket, address: tuple) -> None:
        try:
            connection.setblocking(True)
            connection.settimeout(SNIFF_TIMEOUT)
            first = _peek(connection, 3, _decided if self._tls is None else _any)
            if not first:
                return
            if self._tls is None:
                http = _looks_like_http1(first)
            else:
                http = first[0] == _TLS_HANDSHAKE and _offers_http1(_peek_client_hello(connection))
            if http:
                self._http(connection, address)
            else:
                self._pass_through(connection)
        except OSError:
            pass  # the client went away, timed out, or the front closed its socket
        except Exception:  # noqa: BLE001 - one bad connection must not take the front down
            _log.exception("serving a connection on the admin's port failed")
        finally:
            self._untrack(connection)
            _drop(connection)

    def _http(self, connection: socket.socket, address: tuple) -> None:
        if self._tls is not None:
            try:
                connection = self._tls.wrap_socket(connection, server_side=True)
            except (ssl.SSLError, OSError):
                return  # a failed handshake is the client's to report
            self._track(connection)
        try:
            self._serve_http(connection, address)
        finally:
            self._untrack(connection)
            _drop(connection)

    def _pass_through(self, connection: socket.socket) -> None:
        upstream = socket.create_connection(self._upstream, timeout=10)
        if not self._track(upstream):
            _drop(upstream)
            return
        try:
            connection.settimeout(None)
            upstream.settimeout(None)
            with contextlib.suppress(OSError):
                upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            back = threading.Thread(target=_pump, args=(upstream, connection), name="admin-front-pump", daemon=True)
            back.start()
            _pump(connection, upstream)
            back.join()
        finally:
            self._untrack(upstream)
            _drop(upstream)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        # SO_REUSEADDR only (rebinding after TIME_WAIT); never SO_REUSEPORT: a second admin
        # on the same port must fail, not share it.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(512)
        listener.setblocking(False)
    except OSError as error:
        listener.close()
        raise OSError(f"could not bind {host}:{port}: {error}") from None
    return listener


def _pump(source: socket.socket, target: socket.socket) -> None:
    """Copies until either side ends; then ends both (HTTP/2 has no use for half-closed streams)."""
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    try:
        while True:
            count = source.recv_into(buffer)
            if not count:
                break
            target.sendall(view[:count])
    except OSError:
        pass
    finally:
        for side in (source, target):
            with contextlib.suppress(OSError):
                side.shutdown(socket.SHUT_RDWR)


def _drop(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        connection.close()


def _peek(connection: socket.socket, size: int, enough: Callable[[bytes], bool] | None = None) -> bytes:
    """`size` bytes the client sent, left unread; fewer if it closed or they are `enough` already."""
    deadline = time.monotonic() + SNIFF_TIMEOUT
    while True:
        data = connection.recv(size, socket.MSG_PEEK | socket.MSG_WAITALL)
        if len(data) >= size or not data or (enough is not None and enough(data)):
            return data
        if time.monotonic() > deadline:
            raise TimeoutError("the client sent too little to tell its protocol")
        time.sleep(0.005)  # MSG_WAITALL with MSG_PEEK may return early on some kernels


def _decided(data: bytes) -> bool:
    """Whether the first bytes already settle the question (anything but an upper-case letter does)."""
    return not (65 <= data[0] <= 90) or not _HTTP2_PREFACE_START.startswith(data[: len(_HTTP2_PREFACE_START)])


def _looks_like_http1(first: bytes) -> bool:
    """An HTTP/1.x request starts with an upper-case method; HTTP/2's preface starts with `PRI`."""
    return 65 <= first[0] <= 90 and not first.startswith(_HTTP2_PREFACE_START)


def _peek_client_hello(connection: socket.socket) -> bytes:
    """The first TLS record (normally the whole ClientHello), peeked."""
    header = _peek(connection, 5)
    if len(header) < 5:
        return b""
    length = int.from_bytes(header[3:5], "big")
    return _peek(connection, 5 + length)[5:]


def _offers_http1(hello: bytes) -> bool:
    """Whether a ClientHello offers `http/1.1` in ALPN, or sends no ALPN (then it is no gRPC client).

    A ClientHello we cannot read is left to gRPC, which answers it as it always did.
    """
    protocols = client_hello_alpn(hello)
    if protocols is None:
        return False
    return not protocols or b"http/1.1" in protocols


def client_hello_alpn(hello: bytes) -> list[bytes] | None:
    """The ALPN protocols a ClientHello handshake message offers ([] when none); None if unreadable."""
    try:
        if hello[0] != _CLIENT_HELLO:
            return None
        position = 4 + 2 + 32  # handshake header, client_version, random
        position += 1 + hello[position]  # session id
        position += 2 + int.from_bytes(hello[position : position + 2], "big")  # cipher suites
        position += 1 + hello[position]  # compression methods
        if position == len(hello):
            return []  # no extensions at all
        end = position + 2 + int.from_bytes(hello[position : position + 2], "big")
        if end > len(hello):
            return None  # fragmented over several records: leave it to gRPC
        position += 2
        while position + 4 <= end:
            kind = int.from_bytes(hello[position : position + 2], "big")
            size = int.from_bytes(hello[position + 2 : position + 4], "big")
            body = hello[position + 4 : position + 4 + size]
            position += 4 + size
            if kind == _ALPN_EXTENSION:
                protocols, offset = [], 2
                while offset < len(body):
                    length = body[offset]
                    protocols.append(bytes(body[offset + 1 : offset + 1 + length]))
                    offset += 1 + length
                return protocols
        return []
    except IndexError:
        return None


def _any(data: bytes) -> bool:
    return True
