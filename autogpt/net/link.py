"""A Bus over one gRPC stream to orchgpt, with mutual TLS.

:func:`connect` does the handshake (Register -> Registered or a typed error) and returns
a :class:`NetSession` whose ``bus`` behaves exactly like an in-memory one. Three tasks
run per session: a writer that coalesces queued envelopes into frames, a reader that
hands inbound envelopes to the Bus, and a heartbeat. When the stream ends, waiting
requests fail with a typed error and the Bus closes, which ends an agent's ``serve()``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path

import grpc
from google.protobuf.message import DecodeError

from autogpt.errors import AutoGPTError, ConfigError, ErrorCode, InvalidEnvelopeError, UnreachableError, from_code
from autogpt.iac import codec, wire
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.bus import Bus, Link
from autogpt.iac.envelope import (
    ROUTER_ID,
    Address,
    Envelope,
    ErrorInfo,
    Heartbeat,
    Kind,
    Register,
    Registered,
)
from autogpt.iac.signing import Signer
from autogpt.logs import get_logger
from autogpt.net.rpc_errors import from_rpc_error, translate_rpc_errors

log = get_logger(__name__)

CONNECT = "/iac.v1.Iac/Connect"
"""The one RPC; frames cross it as bytes, cut and joined by :mod:`autogpt.iac.wire`."""

_CONTROL = int(Kind.CONTROL)  # a plain int: reading the enum's member costs five times a comparison
DELIVER_SLICE = 32
"""Envelopes handed to the Bus before the reader lets others run: what the first ones of a big
frame start (replies, new requests) is written while the rest are decoded, so this process and
the orchestrator work at the same time instead of taking turns (64 requests in flight: about
1.3x the request rate on two cores; measured with bench/orch.py)."""
_EOF: object = grpc.aio.EOF  # type: ignore[attr-defined]  # missing from the stubs


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path

    @classmethod
    def from_dir(cls, folder: Path, name: str) -> TlsFiles:
        files = cls(folder / "ca.pem", folder / f"{name}.pem", folder / f"{name}.key")
        missing = [str(p) for p in (files.ca, files.cert, files.key) if not p.is_file()]
        if missing:
            raise ConfigError(
                f"certificate files missing: {', '.join(missing)}",
                hint=f"ask the orchestrator's operator for them: orchgpt certs issue {name} --role ROLE",
            )
        return files

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca.read_bytes(),
            private_key=self.key.read_bytes(),
            certificate_chain=self.cert.read_bytes(),
        )


class GrpcLink(Link):
    """Sends each envelope encoded once, as bytes; the writer joins what is queued into
    frames with the same coalescer as orchgpt's connections (:func:`wire.take_frame`)."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        call: grpc.aio.StreamStreamCall[bytes, bytes],
        *,
        batch: int = 64,
        frame_bytes: int = 4 << 20,
        queue_size: int = 4096,
    ) -> None:
        self._channel = channel
        self._call = call
        self._batch = batch
        self._frame_bytes = frame_bytes
        self._queue_size = queue_size
        self._queue: deque[bytes] = deque()
        self._ready = asyncio.Event()  # something is queued, or the writer should end
        self._room = asyncio.Event()  # the queue has room again
        self._closed = False
        self._ending = False

    async def transmit(self, envelope: Envelope) -> None:
        if self._closed:
            raise UnreachableError("the connection to the orchestrator is closed")
        data = codec.encode(envelope)
        while len(self._queue) >= self._queue_size and not self._closed:
            self._room.clear()
            await self._room.wait()
        if self._closed:  # closed while we waited for room: the envelope will not go out
            raise UnreachableError("the connection to the orchestrator is closed")
        self._queue.append(data)
        self._ready.set()

    def end(self) -> None:
        """Let the writer finish once what is queued now has gone out."""
        self._ending = True
        self._ready.set()

    async def write_loop(self) -> None:
        """Coalesce what is queued into frames, by count and by bytes (file chunks are big)."""
        queue = self._queue
        while True:
            while not queue:
                if self._ending:
                    return
                self._ready.clear()
                await self._ready.wait()
            frame, _ = wire.take_frame(queue, self._batch, self._frame_bytes)
            self._room.set()
            await self._call.write(frame)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.clear()  # what was not sent will not be; blocked senders wake and fail
        self._room.set()
        self.end()
        self._call.cancel()
        await self._channel.close(None)


@dataclass
class NetSession:
    bus: Bus
    registered: Registered
    target: str
    _link: GrpcLink
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    lost: asyncio.Event = field(default_factory=asyncio.Event)

    async def close(self) -> None:
        await self.bus.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def wait_lost(self) -> None:
        await self.lost.wait()


async def connect(
    target: str,
    tls: TlsFiles,
    register: Register,
    *,
    timeout: float = 10.0,
    heartbeat: float = 10.0,
    server_name: str | None = None,
    signer: Signer | None = None,
) -> NetSession:
    """Open a stream to ``target`` and register; typed errors for every refusal."""
    options: list[tuple[str, int | str]] = [
        ("grpc.keepalive_time_ms", 20_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.max_receive_message_length", 8 << 20),
    ]
    if server_name:
        options.append(("grpc.ssl_target_name_override", server_name))
    channel = grpc.aio.secure_channel(target, tls.credentials(), options=options)
    connect_rpc = channel.stream_stream(CONNECT, request_serializer=None, response_deserializer=None)  # bytes
    call: grpc.aio.StreamStreamCall[bytes, bytes] = connect_rpc(None)
    if signer is not None:
        register = replace(register, public_key=signer.public_key)
    hello = Envelope.new(Address.agent(ROUTER_ID), register, kind=Kind.CONTROL)
    try:
        with translate_rpc_errors(target):
            await asyncio.wait_for(call.write(wire.frame_of([codec.encode(hello)])), timeout)
            answer = await asyncio.wait_for(call.read(), timeout)
    except TimeoutError:
        await channel.close(None)
        raise UnreachableError(f"no answer from the orchestrator at {target} within {timeout:g}s") from None
    except BaseException:
        await channel.close(None)
        raise
    try:
        envelopes = wire.split(answer, 1) if isinstance(answer, bytes) else []
    except DecodeError as exc:
        await channel.close(None)
        raise InvalidEnvelopeError(f"the orchestrator's answer is not a frame: {exc}") from None
    if not envelopes:
        await channel.close(None)
        raise UnreachableError(f"the orchestrator at {target} closed the stream during the handshake")
    try:
        first = codec.decode(envelopes[0])
    except InvalidEnvelopeError:
        await channel.close(None)
        raise
    if isinstance(first.payload, ErrorInfo):
        await channel.close(None)
        raise from_code(first.payload.code, first.payload.message)
    if not isinstance(first.payload, Registered):
        await channel.close(None)
        raise InvalidEnvelopeError(f"expected Registered, got {type(first.payload).__name__}")
    link = GrpcLink(channel, call)
    bus = Bus(first.payload.agent_id, link, signer=signer)
    session = NetSession(bus, first.payload, target, link)
    session._tasks = [
        asyncio.create_task(_writer(session), name="net-writer"),
        asyncio.create_task(_reader(session, call), name="net-reader"),
        asyncio.create_task(_heartbeat(session, heartbeat_interval(heartbeat, first.payload)), name="net-heartbeat"),
    ]
    log.info("connected", target=target, agent=bus.agent_id, role=register.role)
    return session


async def _writer(session: NetSession) -> None:
    try:
        await session._link.write_loop()
    except (grpc.aio.AioRpcError, asyncio.InvalidStateError) as exc:
        log.info("write_failed", error=str(exc))
        await _lost(session, "the stream to the orchestrator broke")


async def _reader(session: NetSession, call: grpc.aio.StreamStreamCall[bytes, bytes]) -> None:
    reason = "the orchestrator closed the stream"
    try:
        while True:
            frame = await call.read()
            if frame is _EOF:
                break
            assert isinstance(frame, bytes)
            for n, data in enumerate(wire.split(frame, 1 << 30)):
                if n and n % DELIVER_SLICE == 0:  # more after a full slice
                    await asyncio.sleep(0)
                try:
                    env = codec.decode(data)
                except InvalidEnvelopeError as exc:
                    msg = _readable(data)
                    log.warning("bad_envelope", error=str(exc), sender=msg.sender, kind=int(msg.kind))
                    await _answer_malformed(session, msg, exc)
                    continue
                if env.kind == _CONTROL and isinstance(env.payload, ErrorInfo) and env.sender == ROUTER_ID:
                    log.warning("router_notice", code=ErrorCode(env.payload.code).name, error=env.payload.message)
                if not session.bus.deliver(env):
                    log.warning("inbox_full", dropped=env.id)
    except grpc.aio.AioRpcError as exc:
        reason = str(from_rpc_error(exc, session.target))
    except DecodeError as exc:
        reason = f"the orchestrator sent an undecodable frame: {exc}"
    except asyncio.CancelledError:
        return
    await _lost(session, reason)


def _readable(data: bytes) -> wire.Header:
    """The header of an envelope we cannot decode, to answer it (empty when even that fails:
    the router passes payloads on unread, so a broken one is found here)."""
    try:
        return wire.header(data)
    except DecodeError:
        return wire.Header()


async def _answer_malformed(session: NetSession, msg: wire.Header, exc: InvalidEnvelopeError) -> None:
    """Every request gets exactly one reply and nobody waits in vain: a request we cannot
    decode (say, ``args_json`` that is not a JSON object) is answered with INVALID_INPUT, and
    a reply we cannot decode fails the request it answers, saying why."""
    bus = session.bus
    if msg.kind == pb.KIND_REQUEST and msg.id and msg.sender and msg.sender != ROUTER_ID:
        refusal = ErrorInfo(ErrorCode.INVALID_INPUT, f"{bus.agent_id} cannot read request {msg.id}: {exc}")
        answer = Envelope.new(
            Address.agent(msg.sender), refusal, kind=Kind.REPLY, correlation_id=msg.id, session_id=msg.session_id
        )
        with contextlib.suppress(AutoGPTError):
            await bus.send(answer)
    elif msg.kind == pb.KIND_REPLY and msg.correlation_id:
        failure = ErrorInfo(ErrorCode.INVALID_ENVELOPE, f"malformed reply from {msg.sender or 'the peer'}: {exc}")
        bus.deliver(
            Envelope.new(
                Address.agent(bus.agent_id), failure, kind=Kind.REPLY, sender=msg.sender,
                correlation_id=msg.correlation_id, session_id=msg.session_id,
            )
        )  # fmt: skip


def heartbeat_interval(configured: float, registered: Registered) -> float:
    """Our setting, or more often when the orchestrator asks for it (it drops a peer that
    stays silent longer than its timeout)."""
    if registered.heartbeat_ms > 0:
        return min(configured, registered.heartbeat_ms / 1000)
    return configured


async def _heartbeat(session: NetSession, interval: float) -> None:
    seq = 0
    while not session.bus.closed:
        await asyncio.sleep(interval)
        seq += 1
        try:
            await session.bus.send(Envelope.new(Address.agent(ROUTER_ID), Heartbeat(seq), kind=Kind.CONTROL))
        except AutoGPTError:  # the connection is gone; the reader reports it
            return


async def _lost(session: NetSession, reason: str) -> None:
    if session.lost.is_set():
        return
    log.warning("connection_lost", reason=reason)
    session.bus.fail_pending(UnreachableError(reason))
    session.lost.set()
    await session.bus.close()
