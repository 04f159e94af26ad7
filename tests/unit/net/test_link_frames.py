"""The client's writer coalesces queued envelopes into frames, bounded by count and by bytes; its
reader hands a big frame to the Bus in slices."""

from __future__ import annotations

import asyncio
from typing import Any

from autogpt.iac import codec, wire
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.bus import Bus
from autogpt.iac.envelope import Address, Command, Envelope, Heartbeat, Kind, Registered, Result
from autogpt.iac.transfer import CHUNK_BYTES, split
from autogpt.net.link import DELIVER_SLICE, GrpcLink, NetSession, _reader


class RecordingCall:
    def __init__(self) -> None:
        self.frames: list[pb.Frame] = []

    async def write(self, frame: bytes) -> None:
        self.frames.append(pb.Frame.FromString(frame))


async def drain(link: GrpcLink, envelopes: list[Envelope]) -> list[pb.Frame]:
    call = RecordingCall()
    link._call = call  # type: ignore[assignment]
    for env in envelopes:
        await link.transmit(env)
    link.end()  # after everything queued
    await asyncio.wait_for(link.write_loop(), 5)
    return call.frames


def make_link(**kw: Any) -> GrpcLink:
    return GrpcLink(None, None, **kw)  # type: ignore[arg-type]  # writing needs neither


async def test_file_chunks_never_make_a_frame_larger_than_the_limit() -> None:
    chunks = [
        Envelope.new(Address.agent("man1"), chunk, kind=Kind.EVENT, correlation_id="r")
        for chunk in split("big.bin", b"x" * (40 * CHUNK_BYTES))
    ]
    frames = await drain(make_link(), chunks)
    assert sum(len(f.envelopes) for f in frames) == 40
    assert all(f.ByteSize() <= 4 << 20 for f in frames)
    assert len(frames) == 3  # 15 chunks fit in 4 MiB
    received = [codec.from_proto(e).payload for f in frames for e in f.envelopes]
    assert received == [c.payload for c in chunks]  # nothing lost, nothing reordered


async def test_small_envelopes_still_batch_by_count() -> None:
    beats = [Envelope.new(Address.agent("router"), Heartbeat(i), kind=Kind.CONTROL) for i in range(130)]
    frames = await drain(make_link(batch=64), beats)
    assert [len(f.envelopes) for f in frames] == [64, 64, 2]


async def test_one_envelope_over_the_byte_budget_still_goes_alone() -> None:
    chunks = [Envelope.new(Address.agent("m"), c, kind=Kind.EVENT) for c in split("a", b"y" * 3000, chunk_bytes=1000)]
    frames = await drain(make_link(frame_bytes=500), chunks)
    assert [len(f.envelopes) for f in frames] == [1, 1, 1]


def test_the_heartbeat_follows_the_orchestrator_when_it_asks_for_more() -> None:
    from autogpt.iac.envelope import Registered
    from autogpt.net.link import heartbeat_interval

    assert heartbeat_interval(10.0, Registered("a", heartbeat_ms=1_666)) == 1.666
    assert heartbeat_interval(1.0, Registered("a", heartbeat_ms=10_000)) == 1.0  # ours is already faster
    assert heartbeat_interval(10.0, Registered("a")) == 10.0  # an orchestrator that does not say


class OneFrameCall(RecordingCall):
    """A stream that delivers one frame, then stays open; what is written back is recorded."""

    def __init__(self, frame: bytes, expect: int) -> None:
        super().__init__()
        self._frames = [frame]
        self._open = asyncio.Event()
        self.expect = expect
        self.answered = asyncio.Event()  # ``expect`` envelopes were written back

    async def write(self, frame: bytes) -> None:
        await super().write(frame)
        if sum(len(f.envelopes) for f in self.frames) >= self.expect:
            self.answered.set()

    async def read(self) -> bytes:
        if self._frames:
            return self._frames.pop()
        await self._open.wait()
        raise AssertionError("unreachable")


async def test_an_agent_answers_the_first_requests_of_a_big_frame_while_reading_the_rest() -> None:
    requests = [
        Envelope.new(Address.agent("b"), Command("run", str(i)), kind=Kind.REQUEST, sender="a") for i in range(64)
    ]
    call = OneFrameCall(wire.frame_of([codec.encode(r) for r in requests]), expect=64)
    link = GrpcLink(None, call)  # type: ignore[arg-type]
    bus = Bus("b", link)
    session = NetSession(bus, Registered("b"), "test", link)

    async def echo() -> None:
        async for env in bus:
            assert isinstance(env.payload, Command)
            await bus.reply(env, Result(output=env.payload.input))

    async with asyncio.timeout(10), asyncio.TaskGroup() as tasks:
        running = [tasks.create_task(c) for c in (_reader(session, call), link.write_loop(), echo())]  # type: ignore[arg-type]
        await call.answered.wait()
        for task in running:
            task.cancel()
    replies = [codec.from_proto(e) for f in call.frames for e in f.envelopes]
    assert [r.correlation_id for r in replies] == [r.id for r in requests]  # every one, in order
    assert len(call.frames[0].envelopes) == DELIVER_SLICE  # the first slice went out before the rest was read
