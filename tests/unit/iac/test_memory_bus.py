from __future__ import annotations

import asyncio

import pytest

from autogpt.errors import (
    AgentGoneError,
    IACError,
    NoLiveAgentError,
    RequestTimeoutError,
    UnknownRecipientError,
)
from autogpt.iac.bus import Bus
from autogpt.iac.envelope import Address, Command, Envelope, ErrorInfo, Heartbeat, Kind, Result, State, Status
from autogpt.iac.memory import ROUTER_ID, InMemoryHub


async def _echo(bus: Bus, *, statuses: int = 0) -> None:
    """A minimal agent: streams ``statuses`` updates, then answers with the input upper-cased."""
    async for env in bus:
        assert isinstance(env.payload, Command)
        for i in range(statuses):
            await bus.status(env, Status(State.WORKING, f"step {i}", (i + 1) / statuses))
        await bus.reply(env, Result(output=env.payload.input.upper(), data={"by": bus.agent_id}))


async def test_request_reply_with_streamed_status() -> None:
    hub = InMemoryHub()
    agent = hub.connect("echo")
    user = hub.connect("user")
    seen: list[str] = []
    async with asyncio.TaskGroup() as tg:
        tg.create_task(_echo(agent, statuses=3))
        result = await user.call(Address.role("echo"), Command("run", "hi"), on_status=lambda s: seen.append(s.message))
        await agent.close()
    assert result.output == "HI"
    assert seen == ["step 0", "step 1", "step 2"]


async def test_sender_is_the_endpoint_identity_not_the_claimed_one() -> None:
    hub = InMemoryHub()
    target = hub.connect("target", agent_id="t")
    liar = hub.connect("user", agent_id="liar")
    await liar.send(Envelope.new(Address.agent("t"), Heartbeat(1), sender="someone-else"))
    received = await target.receive()
    assert received is not None
    assert received.sender == "liar"


async def test_unknown_recipient_and_missing_role_are_typed_errors() -> None:
    hub = InMemoryHub()
    user = hub.connect("user")
    with pytest.raises(UnknownRecipientError):
        await user.request(Address.agent("ghost"), Command("run"), timeout=5)
    with pytest.raises(NoLiveAgentError):
        await user.request(Address.role("backend"), Command("run"), timeout=5)


async def test_undeliverable_event_comes_back_as_a_notice() -> None:
    hub = InMemoryHub()
    user = hub.connect("user")
    await user.send(Envelope.new(Address.agent("ghost"), Heartbeat(1)))
    notice = await user.receive()
    assert notice is not None
    assert notice.sender == ROUTER_ID
    assert notice.kind == Kind.CONTROL
    assert isinstance(notice.payload, ErrorInfo)
    assert "ghost" in notice.payload.message


async def test_agent_leaving_mid_request_fails_the_requester_at_once() -> None:
    hub = InMemoryHub()
    agent = hub.connect("slow")
    user = hub.connect("user")
    pending = asyncio.create_task(user.request(Address.role("slow"), Command("run"), timeout=30))
    received = await agent.receive()  # the agent has the request, and dies without answering
    assert received is not None
    await agent.close()
    with pytest.raises(AgentGoneError):
        await pending
    assert hub.router.inflight() == ()


async def test_request_timeout_is_typed() -> None:
    hub = InMemoryHub()
    hub.connect("mute")
    user = hub.connect("user")
    with pytest.raises(RequestTimeoutError, match="within"):
        await user.request(Address.role("mute"), Command("run"), timeout=0.01)


async def test_full_inbox_is_answered_with_overloaded() -> None:
    hub = InMemoryHub(inbox_size=1)
    hub.connect("busy")
    user = hub.connect("user")
    await user.send(Envelope.new(Address.role("busy"), Heartbeat(1)))
    with pytest.raises(IACError, match="cannot take more work"):
        await user.request(Address.role("busy"), Command("run"), timeout=5)


async def test_publish_reaches_all_subscribers() -> None:
    hub = InMemoryHub()
    a = hub.connect("a", topics=("news",))
    b = hub.connect("b", topics=("news",))
    user = hub.connect("user")
    await user.publish("news", Heartbeat(3))
    for bus in (a, b):
        env = await bus.receive()
        assert env is not None
        assert env.payload == Heartbeat(3)
        assert env.sender == user.agent_id


async def test_closed_bus_refuses_to_send_and_ends_iteration() -> None:
    hub = InMemoryHub()
    bus = hub.connect("x")
    await bus.close()
    assert bus.closed
    assert await bus.receive() is None
    with pytest.raises(AgentGoneError):
        await bus.send(Envelope.new(Address.agent("x"), Heartbeat()))
    assert "x" not in {r.agent_id for r in hub.router.agents()}
