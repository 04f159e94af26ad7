"""gRPC status codes become our typed errors here, and only here."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import grpc

from autogpt.errors import (
    AutoGPTError,
    ErrorCode,
    IACError,
    InvalidEnvelopeError,
    PermissionDeniedError,
    RequestTimeoutError,
    UnreachableError,
)


def from_rpc_error(exc: grpc.aio.AioRpcError, target: str) -> AutoGPTError:
    code, details = exc.code(), exc.details() or ""
    if code == grpc.StatusCode.UNAVAILABLE:
        return UnreachableError(
            f"cannot reach the orchestrator at {target}: {details}",
            hint="is `orchgpt serve` running there, and do your certificates come from its CA?",
        )
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return PermissionDeniedError(
            f"the orchestrator refused our certificate: {details}", code=ErrorCode.UNAUTHENTICATED
        )
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return PermissionDeniedError(details)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return RequestTimeoutError(f"the orchestrator did not answer in time: {details}")
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return InvalidEnvelopeError(
            f"message too large for the orchestrator: {details}", code=ErrorCode.ENVELOPE_TOO_LARGE
        )
    if code == grpc.StatusCode.CANCELLED:
        return UnreachableError(f"the connection to {target} was closed")
    return IACError(f"orchestrator stream failed ({code.name}): {details}")


@contextlib.contextmanager
def translate_rpc_errors(target: str) -> Iterator[None]:
    try:
        yield
    except grpc.aio.AioRpcError as exc:
        raise from_rpc_error(exc, target) from None
