"""The FlyteAdmin client. Every module of ours that loads grpc is in this package, so this runs first.

gRPC's C core prints its own log lines to stderr (in a task: the task log), e.g. an
``I0000 ... ssl_transport_security.cc] Handshake failed ... WRONG_VERSION_NUMBER`` for every TLS
attempt against a plaintext server, and ``E0000 ...`` lines for certificate name mismatches. Our
errors already say what went wrong (``reachability``), with the gRPC error as their cause, so
those lines are noise. grpcio (1.6x and later, absl logging) reads ``GRPC_VERBOSITY`` (``DEBUG``,
``INFO``, ``ERROR``, ``NONE``) once, when grpc is first imported; later changes are ignored. So
it is set here, before any import of grpc by this provider, and only when the user chose nothing:
an explicit ``GRPC_VERBOSITY`` is kept, and so is the default when ``GRPC_TRACE`` asks for traces
(which would be silenced by ``NONE``). If something else in the process imported grpc before us,
grpc keeps whatever it read then.
"""

from __future__ import annotations

import os

if not os.environ.get("GRPC_VERBOSITY") and not os.environ.get("GRPC_TRACE"):
    os.environ["GRPC_VERBOSITY"] = "NONE"
