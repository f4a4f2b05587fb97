"""Inputs and outputs as GetExecutionData / GetNodeExecutionData return them.

flyteadmin always points at the stored LiteralMap with a UrlBlob {url, bytes} and inlines it as
`full_*` only when it is smaller than its max data size (2 MB by default); a larger map comes
back as an empty LiteralMap that the client must fetch from the URL (flytekit does).
"""

from __future__ import annotations

from pathlib import Path

from flyteidl.admin import common_pb2
from flyteidl.core import literals_pb2

MAX_INLINE_BYTES = 2 * 1024 * 1024


def offloadable(path: Path) -> tuple[common_pb2.UrlBlob, literals_pb2.LiteralMap]:
    """The blob reference and the inline map for a LiteralMap file; both empty if it does not exist yet."""
    if not path.is_file():
        return common_pb2.UrlBlob(), literals_pb2.LiteralMap()
    data = path.read_bytes()
    blob = common_pb2.UrlBlob(url=path.as_uri(), bytes=len(data))
    if len(data) >= MAX_INLINE_BYTES:
        return blob, literals_pb2.LiteralMap()
    return blob, literals_pb2.LiteralMap.FromString(data)
