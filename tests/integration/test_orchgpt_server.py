"""orchgpt as a server: health and reflection, routing between real sessions over mTLS,
departures, heartbeats, and its lifecycle."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from autogpt.errors import AgentGoneError, ConfigError, NoLiveAgentError, UnknownRecipientError
from autogpt.iac.envelope import ROUTER_ID, Address, Command, Envelope, Kind, Result, Status
from orchgpt.config import load_orch_settings
from orchgpt.server import Orchestrator, State

if TYPE_CHECKING:
    from conftest import Net, StartOrchestrator

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING

# -- health and reflection -------------------------------------------------------------------


async def test_health_serving_then_not_serving_once_stop_begins(orchestrator: Orchestrator, net: Net) -> None:
    stub = health_pb2_grpc.HealthStub(net.mtls(orchestrator, "alice"))
    for service in ("", "iac.v1.Iac"):
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == SERVING
    stopping = asyncio.create_task(orchestrator.stop(1))
    await asyncio.sleep(0)  # one turn: stop() runs up to its first suspension, past the health flip
    assert orchestrator.state is State.STOPPING
    for service in ("", "iac.v1.Iac"):
        answer = await orchestrator.health.Check(health_pb2.HealthCheckRequest(service=service), None)
        assert answer.status == NOT_SERVING
    await stopping
    assert orchestrator.state is State.STOPPED
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_reflection_lists_the_iac_service(orchestrator: Orchestrator, net: Net) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(net.mtls(orchestrator, "alice"))
    call = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
    names = {s.name for reply in [r async for r in call] for s in reply.list_services_response.service}
    assert {"iac.v1.Iac", "grpc.health.v1.Health"} <= names


# -- routing ----------------------------------------------------------------------------------


async def test_request_by_agent_id_reaches_that_agent(orchestrator: Orchestrator, net: Net) -> None:
    await net.echo(orchestrator, "gen1")
    await net.echo(orchestrator, "gen2")
    alice = await net.session(orchestrator, "alice")
    async with asyncio.timeout(5):
        for _ in range(3):
            result = await alice.bus.call(Address.agent("gen2"), Command("run", "hi"))
            assert result.data == {"agent": "gen2"}
            assert result.output == "hi"


async def test_requests_by_role_alternate_between_instances(orchestrator: Orchestrator, net: Net) -> None:
    await net.echo(orchestrator, "gen1")
    await net.echo(orchestrator, "gen2")
    alice = await net.session(orchestrator, "alice")
    async with asyncio.timeout(5):
        served = [(await alice.bus.call(Address.role("generic"), Command("run"))).data["agent"] for _ in range(4)]
    assert sorted(served[:2]) == ["gen1", "gen2"]
    assert served[2:] == served[:2]


async def test_publication_reaches_every_subscriber_only(orchestrator: Orchestrator, net: Net) -> None:
    gen1 = await net.echo(orchestrator, "gen1", topics=("news",))
    gen2 = await net.echo(orchestrator, "gen2", topics=("news",))
    back1 = await net.echo(orchestrator, "back1")
    alice = await net.session(orchestrator, "alice")
    await alice.bus.publish("news", Result(output="extra"))
    await alice.bus.send(Envelope.new(Address.agent("back1"), Result(output="marker")))
    async with asyncio.timeout(5):
        for agent in (gen1, gen2):
            got = await agent.inbox.get()
            assert (got.sender, got.kind, got.recipient, got.payload) == (
                "alice",
                Kind.EVENT,
                Address.topic("news"),
                Result(output="extra"),
            )
        first_for_back1 = await back1.inbox.get()
    assert first_for_back1.payload == Result(output="marker")  # the publication never reached back1


async def test_concurrent_replies_are_correlated_to_their_requests(orchestrator: Orchestrator, net: Net) -> None:
    await net.echo(orchestrator, "gen1")
    await net.echo(orchestrator, "gen2")
    alice = await net.session(orchestrator, "alice")
    async with asyncio.timeout(10):
        replies = await asyncio.gather(
            *(alice.bus.request(Address.role("generic"), Command("run", f"job {i}")) for i in range(20))
        )
    assert [r.payload.output for r in replies] == [f"job {i}" for i in range(20)]  # type: ignore[union-attr]
    assert all(r.kind == Kind.REPLY and r.correlation_id for r in replies)
    assert len({r.correlation_id for r in replies}) == 20


async def test_status_updates_stream_back_to_the_requester(orchestrator: Orchestrator, net: Net) -> None:
    await net.echo(orchestrator, "gen1")
    alice = await net.session(orchestrator, "alice")
    seen: list[Status] = []
    deltas = ["one ", "two ", "three"]
    async with asyncio.timeout(5):
        result = await alice.bus.call(
            Address.role("generic"), Command("run", "done", args={"deltas": deltas}), on_status=seen.append
        )
    assert [s.delta for s in seen] == deltas
    assert result.output == "done"


async def test_role_without_live_agent_and_unknown_agent_are_typed_errors(orchestrator: Orchestrator, net: Net) -> None:
    await net.echo(orchestrator, "gen1")
    alice = await net.session(orchestrator, "alice")
    async with asyncio.timeout(5):
        with pytest.raises(NoLiveAgentError, match="architect"):
            await alice.bus.request(Address.role("architect"), Command("run"))
        with pytest.raises(UnknownRecipientError, match="nobody"):
            await alice.bus.request(Address.agent("nobody"), Command("run"))
        assert (await alice.bus.call(Address.agent("gen1"), Command("run", "ok"))).output == "ok"
    assert not alice.lost.is_set()


async def test_agent_leaving_mid_request_fails_the_request_promptly(orchestrator: Orchestrator, net: Net) -> None:
    gen1 = await net.session(orchestrator, "gen1")
    alice = await net.session(orchestrator, "alice")
    pending = asyncio.create_task(alice.bus.request(Address.role("generic"), Command("run"), timeout=60))
    async with asyncio.timeout(5):  # far below the request's own 60 s timeout
        held = await gen1.bus.receive()
        assert held is not None
        assert held.sender == "alice"
        await gen1.close()
        with pytest.raises(AgentGoneError, match="gen1"):
            await pending
        # The departure is complete before the error is sent: the role is gone too.
        with pytest.raises(NoLiveAgentError, match="generic"):
            await alice.bus.request(Address.role("generic"), Command("run"))
    assert not alice.lost.is_set()
    assert orchestrator.board.router.inflight() == ()


# -- heartbeats ---------------------------------------------------------------------------------


async def test_silent_stream_is_dropped_while_a_session_keeps_the_announced_heartbeat(
    orchestrator_factory: StartOrchestrator, net: Net
) -> None:
    """The orchestrator announces the interval it wants; a client configured for a slower one
    (60 s here, against a 0.3 s timeout) follows the announcement and is not dropped."""
    orch = await orchestrator_factory(heartbeat_timeout=0.3)
    alice = await net.session(orch, "alice", heartbeat=60)  # connected first: would be dropped first
    assert alice.registered.heartbeat_ms == 100
    silent = net.raw(orch, "mallory")
    await silent.register("user")
    async with asyncio.timeout(5):
        assert await silent.call.read() is grpc.aio.EOF  # type: ignore[attr-defined]
        result = await alice.bus.call(Address.agent(ROUTER_ID), Command("agents"))
    assert [a["agent_id"] for a in result.data["agents"]] == ["alice"]
    assert not alice.lost.is_set()


# -- lifecycle ----------------------------------------------------------------------------------


async def test_start_twice_raises_and_stop_is_idempotent(orchestrator: Orchestrator) -> None:
    with pytest.raises(RuntimeError, match="already serving"):
        await orchestrator.start()
    await asyncio.gather(orchestrator.stop(0), orchestrator.stop(0))
    await orchestrator.stop(0)
    assert orchestrator.state is State.STOPPED
    with pytest.raises(RuntimeError, match="already stopped"):
        await orchestrator.start()


async def test_missing_certificates_are_a_config_error_with_a_hint(tmp_path: Path) -> None:
    orch = Orchestrator(load_orch_settings(listen="127.0.0.1:0", certs=tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match=r"server\.pem") as caught:
        await orch.start()
    assert caught.value.hint is not None
    assert "orchgpt certs init" in caught.value.hint
    assert orch.state is State.NEW
    await orch.stop(0)  # stopping a server that never started is a no-op


async def test_agents_command_lists_connected_agents_with_roles(orchestrator: Orchestrator, net: Net) -> None:
    await net.session(orchestrator, "gen1")
    await net.session(orchestrator, "back1")
    alice = await net.session(orchestrator, "alice")
    async with asyncio.timeout(5):
        result = await alice.bus.call(Address.agent(ROUTER_ID), Command("agents"))
    listed = {a["agent_id"]: a["role"] for a in result.data["agents"]}
    assert listed == {"gen1": "generic", "back1": "backend", "alice": "user"}
    assert sorted(tuple(line.split()) for line in result.output.splitlines()) == sorted(listed.items())
