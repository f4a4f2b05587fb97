"""The one way a handler reports a FlyteAdmin error status.

Handlers raise `AdminError` deep inside validation or lookups; the servicer turns it into a gRPC
status at the boundary, so the business code never touches a grpc context.
"""

from __future__ import annotations

import grpc


class AdminError(Exception):
    """An error that FlyteAdmin would answer with this status code and message."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid_argument(message: str) -> AdminError:
    return AdminError(grpc.StatusCode.INVALID_ARGUMENT, message)


def not_found(message: str) -> AdminError:
    return AdminError(grpc.StatusCode.NOT_FOUND, message)
