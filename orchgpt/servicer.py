"""The gRPC servicer: stream plumbing only. Identity, handshake, then two loops: a reader
task feeding the switchboard, and this handler writing the connection's frames. The
handler is a coroutine writing through ``context.write`` (not an async generator), so a
cancellation always lands in our code; cleanup is in one ``finally`` that covers the
Registered answer too, so however a stream ends its agent is unregistered, its stream
uncounted, and whoever waits on it is told.

Frames cross gRPC as bytes both ways (no (de)serializer on the method, see
:func:`add_to_server`): an inbound frame is cut into envelope encodings
(:func:`autogpt.iac.wire.split`) and an outbound one is joined from them, so no Frame or
Envelope message is built for routed traffic."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import grpc
from google.protobuf.message import DecodeError

from autogpt.errors import ErrorCode
from autogpt.iac import wire
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.envelope import Kind
from autogpt.logs import get_logger
from orchgpt.admission import AdmissionError
from orchgpt.connection import Connection, Peer
from orchgpt.switchboard import Switchboard, error_envelope

log = get_logger("orchgpt")

SLICE = 64
"""Envelopes routed before the loop gets a turn for other streams."""


Context = grpc.aio.ServicerContext[bytes, bytes]


def add_to_server(servicer: IacServicer, server: grpc.aio.Server) -> None:
    """Serve ``iac.v1.Iac/Connect`` with frames passed as bytes, untouched by protobuf."""
    handler = grpc.stream_stream_rpc_method_handler(servicer.Connect)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("iac.v1.Iac", {"Connect": handler}),))


PEERS_KEPT = 1024
"""Certificates whose identity :class:`IacServicer` keeps, so a reconnect parses nothing."""


def peer_from_pem(pem: bytes) -> Peer | None:
    """The identity in a client certificate (mTLS already proved the client holds its key),
    or None if it is not usable."""
    from orchgpt.pki import identity_from_pem

    try:
        identity = identity_from_pem(pem)
    except Exception:
        return None
    return Peer(identity.name, frozenset(identity.roles), granted_capabilities(identity.roles, identity.capabilities))


def granted_capabilities(roles: frozenset[str], listed: frozenset[str] | None) -> frozenset[str]:
    """What the certificate lets its holder announce: the capabilities it lists, or, for a
    certificate issued before capabilities were written (``listed`` is None), those its
    roles' agent classes declare, the same set ``orchgpt certs issue`` grants by default."""
    if listed is not None:
        return listed
    from autogpt.agents.catalog import default_capabilities

    return default_capabilities(roles)


class IacServicer:
    def __init__(self, board: Switchboard, *, handshake_timeout: float, frame_envelopes: int = 1024) -> None:
        self.board = board
        self.handshake_timeout = handshake_timeout
        self.frame_envelopes = frame_envelopes
        # A certificate's identity is a function of its bytes (TLS checks its chain and dates
        # on every connection), so it is read once per certificate, not once per stream.
        self._peers: dict[bytes, Peer | None] = {}

    def _peer(self, context: Context) -> Peer | None:
        pem = next(iter(context.auth_context().get("x509_pem_cert", ())), None)
        if pem is None:
            return None
        try:
            return self._peers[pem]
        except KeyError:
            pass
        peer = self._peers[pem] = peer_from_pem(pem)
        if len(self._peers) > PEERS_KEPT:
            del self._peers[next(iter(self._peers))]  # the oldest: a bound, not a policy
        return peer

    async def Connect(  # the reader/writer form: writes go through context
        self, request_iterator: AsyncIterator[bytes], context: Context
    ) -> None:
        peer = self._peer(context)
        if peer is None:
            log.warning("refused", reason="no usable client certificate", peer=context.peer())
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED, "a client certificate from this deployment is required"
            )
        assert peer is not None
        if not self.board.open_stream(peer):
            limit = self.board.streams_per_cert
            log.warning("refused", reason="too many streams", cert=peer.name, limit=limit)
            with contextlib.suppress(TimeoutError, StopAsyncIteration):  # take the Register, so the
                await asyncio.wait_for(anext(request_iterator), self.handshake_timeout)  # client reads why
            await context.write(_refusal(ErrorCode.RESOURCE_EXHAUSTED, f"{peer.name!r} has {limit} streams open"))
            return
        conn: Connection | None = None
        try:
            conn = await self._handshake(peer, request_iterator, context)
            if conn is not None:
                await self._serve(conn, request_iterator, context)
        except asyncio.CancelledError:
            if conn is None or conn.fault is None:
                raise  # the peer went away, or the server stops
            asyncio.current_task().uncancel()  # type: ignore[union-attr]  # we aborted it: report why
        finally:
            # Every exit (refusal, error, cancellation, a Registered too big to send) ends here.
            if conn is not None:
                self.board.leave(conn)
            self.board.close_stream(peer)
        if conn is not None and conn.fault is not None and conn.fault.status:
            await context.abort(grpc.StatusCode[conn.fault.status], conn.fault.message)

    async def _handshake(self, peer: Peer, frames: AsyncIterator[bytes], context: Context) -> Connection | None:
        """Register the peer and send it Registered, or refuse it and return None."""
        try:
            async with asyncio.timeout(self.handshake_timeout):  # no task per join, unlike wait_for
                first = await anext(frames)
        except (TimeoutError, StopAsyncIteration):
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "no Register received")
        refusal: tuple[ErrorCode, str] | None = None
        hello = pb.Envelope()
        try:
            envelopes = wire.split(first, self.frame_envelopes)
            if envelopes and len(envelopes[0]) <= self.board.max_envelope_bytes:
                hello.ParseFromString(envelopes[0])
        except DecodeError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"undecodable frame: {exc}")
        if not envelopes or (len(envelopes[0]) <= self.board.max_envelope_bytes and not hello.HasField("register")):
            refusal = (ErrorCode.INVALID_ENVELOPE, "the first envelope of a stream must be a Register")
        elif (size := len(envelopes[0])) > self.board.max_envelope_bytes:
            refusal = (
                ErrorCode.ENVELOPE_TOO_LARGE,
                f"register of {size} bytes exceeds {self.board.max_envelope_bytes}",
            )
        elif len(envelopes) > self.frame_envelopes:
            refusal = (
                ErrorCode.RESOURCE_EXHAUSTED,
                f"frame exceeds {self.frame_envelopes} envelopes",
            )
        if refusal is not None:
            await context.write(_refusal(*refusal))
            return None
        try:
            conn = self.board.admit(peer, hello.register)
        except AdmissionError as exc:
            log.warning("register_refused", cert=peer.name, error=exc.message)
            await context.write(_refusal(exc.code, exc.message))
            return None
        conn.handler = asyncio.current_task()
        conn.backlog = envelopes[1:]
        try:
            await context.write(wire.frame_of([self.board.registered(conn)]))
        except BaseException:
            self.board.leave(conn)  # never a registered ghost, whatever stopped the answer
            raise
        return conn

    async def _serve(self, conn: Connection, frames: AsyncIterator[bytes], context: Context) -> None:
        async with asyncio.TaskGroup() as tasks:
            reader = tasks.create_task(self._read(conn, frames), name=f"read-{conn.agent_id}")
            async for frame in conn.frames():
                await context.write(frame)
            reader.cancel()

    async def _read(self, conn: Connection, frames: AsyncIterator[bytes]) -> None:
        try:
            await self._route(conn, conn.backlog)
            conn.backlog = []
            async for frame in frames:
                envelopes = wire.split(frame, self.frame_envelopes)
                if len(envelopes) > self.frame_envelopes:
                    limit = self.frame_envelopes
                    conn.abort("RESOURCE_EXHAUSTED", f"frame exceeds {limit} envelopes")
                    return
                conn.touch()
                await self._route(conn, envelopes)
        except grpc.aio.AioRpcError as exc:
            log.info("stream_broken", agent=conn.agent_id, code=exc.code().name)
        except Exception as exc:  # an undecodable frame surfaces here, from the request iterator
            conn.abort("INVALID_ARGUMENT", f"undecodable frame: {type(exc).__name__}")
            log.warning("bad_frame", agent=conn.agent_id, error=conn.fault)
        finally:
            conn.close()

    async def _route(self, conn: Connection, envelopes: Sequence[bytes]) -> None:
        """Route in slices, letting other streams in between: one big frame never holds the loop."""
        for start in range(0, len(envelopes), SLICE):
            self.board.handle_frame(conn, envelopes[start : start + SLICE])
            if start + SLICE < len(envelopes):
                await asyncio.sleep(0)


def _refusal(code: ErrorCode, message: str) -> bytes:
    return wire.frame_of([error_envelope("", code, message, kind=Kind.CONTROL).SerializeToString()])
