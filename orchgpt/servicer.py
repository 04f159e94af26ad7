"""The gRPC servicer: stream plumbing only. Identity, handshake, then two loops: a reader
task feeding the switchboard, and this handler writing the connection's frames. Cleanup
is in ``finally``, so however a stream ends its agent is unregistered and whoever waits
on it is told."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc

from autogpt.errors import ErrorCode
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac._gen import iac_pb2_grpc as pb_grpc
from autogpt.iac.envelope import Kind
from autogpt.logs import get_logger
from orchgpt.connection import Connection, Peer
from orchgpt.switchboard import AdmissionError, Switchboard, error_envelope

log = get_logger("orchgpt")


def peer_of(context: grpc.aio.ServicerContext[pb.Frame, pb.Frame]) -> Peer | None:
    """The identity in the client certificate; mTLS already proved the client holds its key."""
    from orchgpt.pki import identity_from_pem

    pems = list(context.auth_context().get("x509_pem_cert", ()))
    if not pems:
        return None
    try:
        identity = identity_from_pem(pems[0])
    except Exception:
        return None
    return Peer(identity.name, frozenset(identity.roles))


class IacServicer(pb_grpc.IacServicer):
    def __init__(self, board: Switchboard, *, handshake_timeout: float) -> None:
        self.board = board
        self.handshake_timeout = handshake_timeout

    async def Connect(
        self, request_iterator: AsyncIterator[pb.Frame], context: grpc.aio.ServicerContext[pb.Frame, pb.Frame]
    ) -> AsyncIterator[pb.Frame]:
        peer = peer_of(context)
        if peer is None:
            log.warning("refused", reason="no usable client certificate", peer=context.peer())
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED, "a client certificate from this deployment is required"
            )
        assert peer is not None
        try:
            first = await asyncio.wait_for(anext(request_iterator), self.handshake_timeout)
        except (TimeoutError, StopAsyncIteration):
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "no Register received")
        if not first.envelopes or first.envelopes[0].WhichOneof("payload") != "register":
            yield _refusal(ErrorCode.INVALID_ENVELOPE, "the first envelope of a stream must be a Register")
            return
        try:
            conn = self.board.admit(peer, first.envelopes[0].register)
        except AdmissionError as exc:
            log.warning("register_refused", cert=peer.name, error=exc.message)
            yield _refusal(exc.code, exc.message)
            return
        yield pb.Frame(envelopes=[self.board.registered(conn)])
        if len(first.envelopes) > 1:
            self.board.handle_frame(conn, first.envelopes[1:])
        reader = asyncio.create_task(self._read(conn, request_iterator), name=f"read-{conn.agent_id}")
        try:
            async for frame in conn.frames():
                yield frame
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            self.board.leave(conn)
        if conn.fault:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, conn.fault)

    async def _read(self, conn: Connection, frames: AsyncIterator[pb.Frame]) -> None:
        try:
            async for frame in frames:
                self.board.handle_frame(conn, frame.envelopes)
        except grpc.aio.AioRpcError as exc:
            log.info("stream_broken", agent=conn.agent_id, code=exc.code().name)
        except Exception as exc:  # an undecodable frame surfaces here, from the request iterator
            conn.fault = f"undecodable frame: {type(exc).__name__}"
            log.warning("bad_frame", agent=conn.agent_id, error=conn.fault)
        finally:
            conn.close()


def _refusal(code: ErrorCode, message: str) -> pb.Frame:
    return pb.Frame(envelopes=[error_envelope("", code, message, kind=Kind.CONTROL)])
