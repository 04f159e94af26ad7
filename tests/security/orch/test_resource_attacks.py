"""Attack: a peer with an ordinary certificate tries to exhaust orchgpt: huge frames of tiny
envelopes, a consumer that never reads, more streams and more requests than anyone needs,
TCP connections that never finish TLS, and connections left open with nothing on them."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from autogpt.errors import ErrorCode
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.envelope import Address, Command, Result
from orchgpt.servicer import SLICE

from .attack import Watch, ended, request

if TYPE_CHECKING:
    from orchgpt.server import Orchestrator

    from .conftest import Net, StartOrchestrator


async def _still_serving(orch: Orchestrator, net: Net, name: str = "alice") -> None:
    session = await net.session(orch, name)
    async with asyncio.timeout(10):
        result = await session.bus.call(Address.role("generic"), Command("run", "still here"), timeout=5)
    assert result.output == "still here"


async def test_frame_floods_are_capped_and_routed_in_slices(orchestrator_factory: StartOrchestrator, net: Net) -> None:
    orch = await orchestrator_factory(frame_envelopes=1024)
    watch = Watch(orch)
    await net.echo(orch, "gen1")
    slices: list[int] = []
    handle_frame = orch.board.handle_frame

    def recording(conn: object, envelopes: list[pb.Envelope]) -> None:
        slices.append(len(envelopes))
        handle_frame(conn, envelopes)  # type: ignore[arg-type]

    orch.board.handle_frame = recording  # type: ignore[method-assign]
    mallory = net.raw(orch, "mallory")
    await mallory.register("user")
    junk = pb.Envelope(id="j", recipient=pb.Address(agent_id="nobody"), kind=pb.KIND_EVENT, heartbeat=pb.Heartbeat())
    async with asyncio.timeout(20):
        await mallory.call.write(pb.Frame(envelopes=[junk] * 1000))  # under the cap: routed, in slices
        await _still_serving(orch, net)
        await mallory.call.write(pb.Frame(envelopes=[junk] * 150_000))  # 150,000 in one frame: refused
        await ended(mallory.call)
        await watch.until(lambda: "mallory" not in orch.board.connections)
    assert await mallory.call.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "exceeds 1024" in (await mallory.call.details() or "")
    assert max(slices) <= SLICE
    assert sum(slices) >= 1000
    await _still_serving(orch, net, "alice")


async def test_a_consumer_that_never_reads_is_bounded_in_bytes_then_dropped(
    orchestrator_factory: StartOrchestrator, net: Net
) -> None:
    orch = await orchestrator_factory(queue_bytes=2 << 20, stall_timeout=0.5)
    watch = Watch(orch)
    await net.echo(orch, "gen1")
    mallory = net.raw(orch, "mallory")
    await mallory.register("user", topics=("news",))  # ...and never reads again
    conn = orch.board.connections["mallory"]
    most = 0
    offer = conn.offer

    def measured(envelope: pb.Envelope, size: int | None = None) -> bool:
        nonlocal most
        accepted = offer(envelope, size)
        most = max(most, conn.queued[1])
        return accepted

    conn.offer = measured  # type: ignore[method-assign]
    gen2 = await net.session(orch, "gen2")
    async with asyncio.timeout(20):
        for _ in range(40):  # 40 events of ~1 MB each
            await gen2.bus.publish("news", Result(output="x" * 1_000_000))
        await watch.until(lambda: "mallory" not in orch.board.connections, timeout=15)
        await ended(mallory.call)
    assert most <= 2 << 20
    assert await mallory.call.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "read too slowly" in (await mallory.call.details() or "")
    await _still_serving(orch, net)


async def test_streams_per_certificate_and_requests_in_flight_are_limited(
    orchestrator_factory: StartOrchestrator, net: Net
) -> None:
    orch = await orchestrator_factory(streams_per_cert=2, pending_requests=4)
    watch = Watch(orch)
    await net.echo(orch, "gen1")
    silent = net.raw(orch, "back1")  # takes requests and never answers
    await silent.register("backend")
    async with asyncio.timeout(20):
        first = net.raw(orch, "mallory")  # each stream opens when made: one at a time
        await first.register("user")
        await net.raw(orch, "mallory").register("user")
        refused = await net.raw(orch, "mallory").register("user")
        assert (refused.error.code, refused.error.retryable) == (ErrorCode.RESOURCE_EXHAUSTED, False)
        ids = [f"r{i}" for i in range(10)]
        await first.send(*(request(pb.Address(agent_id="back1"), id=i) for i in ids))
        answers = [(await first.until_reply(i))[1] for i in ids[4:]]
        assert {a.error.code for a in answers} == {ErrorCode.RESOURCE_EXHAUSTED}
        assert orch.board.router.outstanding("mallory") == 4
        await _still_serving(orch, net)
        first.call.cancel()  # a stream that ends gives its place back
        await watch.until(lambda: orch.board.streams.get("mallory") == 1)
        again = net.raw(orch, "mallory")
        assert (await again.register("user")).WhichOneof("payload") == "registered"


async def test_tcp_without_tls_and_idle_connections_are_let_go(
    orchestrator_factory: StartOrchestrator, net: Net
) -> None:
    orch = await orchestrator_factory(tls_handshake_timeout=0.5, idle_timeout=0.5)
    async with asyncio.timeout(10):
        reader, writer = await asyncio.open_connection("127.0.0.1", orch.port)  # no TLS: just sits there
        try:
            assert await reader.read() == b""  # the server hangs up (it used to wait 120 s)
        finally:
            writer.close()
        channel = net.mtls(orch, "alice")
        check = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert check.status == health_pb2.HealthCheckResponse.SERVING
        state = channel.get_state()
        assert state == grpc.ChannelConnectivity.READY
        await channel.wait_for_state_change(state)  # the server closes the idle connection
    assert channel.get_state() != grpc.ChannelConnectivity.READY
