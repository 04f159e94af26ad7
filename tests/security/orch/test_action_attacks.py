"""Attack: a peer asks an agent for an action it never offered, hoping the request crosses
the network to it anyway (by id, or by role where another instance might take it), or
registers an action list big enough to bloat every answer about the registry."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pytest

from autogpt.agents.base import Agent, Context, action
from autogpt.config import load_settings
from autogpt.errors import ErrorCode, UnknownActionError
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.envelope import ROUTER_ID, Address, Command, Result
from autogpt.llm.doubles import ScriptedLLM
from autogpt.net.agent_process import serve_role
from orchgpt.pki import issue_client

from .attack import Watch, hello, ledger_rows, request

if TYPE_CHECKING:
    from .conftest import Net, StartOrchestrator


async def test_an_action_the_agent_does_not_offer_is_refused_by_orchgpt_and_never_delivered(
    orchestrator_factory: StartOrchestrator, net: Net
) -> None:
    orch = await orchestrator_factory()
    gen1 = await net.echo(orch, "gen1", actions=("help", "write"))
    mallory = net.raw(orch, "mallory")
    await mallory.register("user")
    async with asyncio.timeout(10):
        for to, request_id in ((pb.Address(agent_id="gen1"), "by-id"), (pb.Address(role="generic"), "by-role")):
            await mallory.send(request(to, "delete_everything", "rm -rf /", id=request_id))
            _, reply = await mallory.until_reply(request_id)
            assert (reply.sender, reply.error.code) == (ROUTER_ID, ErrorCode.UNKNOWN_ACTION)
            assert not reply.error.retryable
            assert "delete_everything" in reply.error.message
        await mallory.send(request(pb.Address(agent_id="gen1"), "write", "a haiku", id="offered"))
        _, reply = await mallory.until_reply("offered")
        rows = {r.request_id: r for r in await ledger_rows(orch)}
    assert (reply.sender, reply.result.output) == ("gen1", "a haiku")
    # Sent before the offered one on the same path, so they would have arrived first.
    assert gen1.actions == ["write"]
    assert orch.board.router.inflight() == ()
    for refused in ("by-id", "by-role"):
        assert (rows[refused].state, rows[refused].error) == ("refused", "UNKNOWN_ACTION")
        assert rows[refused].what == "delete_everything rm -rf /"
    assert (rows["offered"].state, rows["offered"].agent) == ("done", "gen1")


async def test_role_routing_picks_only_instances_offering_the_action(
    orchestrator_factory: StartOrchestrator, net: Net
) -> None:
    """Round-robin skips an instance that lacks the action; if no instance offers it, the
    requester is told at once. An agent whose Register lists no actions (an older client)
    is not checked: it still takes whatever comes, and the listing says it did not tell."""
    orch = await orchestrator_factory()
    writer = await net.echo(orch, "gen1", actions=("write",))
    drawer = await net.echo(orch, "gen2", actions=("draw",))
    alice = await net.session(orch, "alice")
    async with asyncio.timeout(10):
        for i in range(4):
            answer = await alice.bus.call(Address.role("generic"), Command("write", f"w{i}"), timeout=5)
            assert answer.data == {"agent": "gen1"}
        answer = await alice.bus.call(Address.role("generic"), Command("DRAW", "a cat"), timeout=5)
        assert answer.data == {"agent": "gen2"}
        with pytest.raises(UnknownActionError, match="no live agent of role 'generic' has the action 'sing'"):
            await alice.bus.call(Address.role("generic"), Command("sing"), timeout=5)
        with pytest.raises(UnknownActionError):
            await alice.bus.call(Address.agent("gen2"), Command("write"), timeout=5)
        plain = await alice.bus.call(Address.agent("gen2"), Command("", "a plain prompt"), timeout=5)
        assert plain.data == {"agent": "gen2"}  # the main action: every agent has one

        issue_client(net.pki, "gen3", ["generic"])
        older = await net.echo(orch, "gen3", role="generic")
        answer = await alice.bus.call(Address.role("generic"), Command("sing"), timeout=5)
        assert answer.data == {"agent": "gen3"}
        listed = {a["agent_id"]: a["actions"] for a in await alice.bus.list_agents()}
    assert (writer.actions, drawer.actions, older.actions) == (["write"] * 4, ["DRAW", ""], ["sing"])
    assert listed == {"gen1": ["write"], "gen2": ["draw"], "alice": None, "gen3": None}


async def test_oversized_action_lists_are_refused_and_leave_nothing_behind(
    orchestrator_factory: StartOrchestrator, net: Net
) -> None:
    orch = await orchestrator_factory()
    watch = Watch(orch)
    refusals = {
        "actions of 4 MB": hello("generic", actions=tuple(f"{i:03d}" + "a" * 60_000 for i in range(64))),
        "257 actions": hello("generic", actions=tuple(f"a{i}" for i in range(257))),
        "an action of 65 characters": hello("generic", actions=("a" * 65,)),
        "an action with an escape code": hello("generic", actions=("write\x1b[2J",)),
        "an action with a space": hello("generic", actions=("write all",)),
    }
    async with asyncio.timeout(20):
        for what, register in refusals.items():
            raw = net.raw(orch, "gen1")
            await raw.send(register)
            answer = await raw.read()
            assert answer.WhichOneof("payload") == "error", what
            assert answer.error.code in (ErrorCode.ENVELOPE_TOO_LARGE, ErrorCode.INVALID_ENVELOPE), what
        await watch.until(lambda: not orch.board.connections and not orch.board.streams, timeout=10)
        assert len(orch.board.router) == 0

        widest = tuple(f"{i:03d}" + "a" * 61 for i in range(256))
        joined = await net.raw(orch, "gen1").register("generic", actions=widest)
        assert joined.WhichOneof("payload") == "registered"
        assert list(joined.registered.agents[0].actions) == sorted(widest)
        alice = await net.session(orch, "alice")
        listed = await alice.bus.list_agents()
    assert listed[0]["actions"] == sorted(widest)


class Scribe(Agent):
    """A real agent served the way ``autogpt --net --agent`` serves one, noting every
    command its dispatch sees (class-wide: the agent is made inside :func:`serve_role`)."""

    name = "ScribeGPT"
    role = "generic"
    seen: ClassVar[list[str]] = []

    @action("write", help="write the input down", aliases=("note",))
    async def write(self, command: Command, ctx: Context) -> Result:
        return Result(output=f"noted {command.input}")

    async def dispatch(self, payload: object, ctx: Context) -> Result:
        if isinstance(payload, Command):
            Scribe.seen.append(payload.action)
        return await super().dispatch(payload, ctx)


async def test_a_served_agent_announces_its_action_table_and_orchgpt_keeps_it_to_it(
    orchestrator_factory: StartOrchestrator, net: Net, pki: Path, tmp_path: Path
) -> None:
    orch = await orchestrator_factory()
    Scribe.seen.clear()
    settings = load_settings(
        orchestrator=net.target(orch), certs=pki, cert_name="gen1", workspace=tmp_path / "ws", require_signatures=False
    )
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_role(settings, Scribe, ScriptedLLM([]), stop=stop))
    watch = Watch(orch)
    try:
        async with asyncio.timeout(15):
            await watch.until(lambda: "gen1" in orch.board.router, timeout=10)
            record = orch.board.router.get("gen1")
            assert record is not None
            assert record.actions == frozenset(Scribe.offered_actions())
            alice = await net.session(orch, "alice")
            with pytest.raises(UnknownActionError, match="gen1 has no action 'shred'"):
                await alice.bus.call(Address.agent("gen1"), Command("shred", "the minutes"), timeout=5)
            noted = await alice.bus.call(Address.role("generic"), Command("note", "the minutes"), timeout=5)
            helped = await alice.bus.call(Address.agent("gen1"), Command("help"), timeout=5)
    finally:
        stop.set()
        await serving
    assert noted.output == "noted the minutes"
    assert "write" in helped.output
    assert Scribe.seen == ["note", "help"]
