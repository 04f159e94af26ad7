"""Attack: a peer with an ordinary certificate registers with oversized fields, or aborts
its handshakes, to leave ghost agents behind and lock everyone else out."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from autogpt.errors import ErrorCode
from autogpt.iac._gen import iac_pb2_grpc as pb_grpc
from autogpt.iac.envelope import Address, Command
from orchgpt.pki import issue_client

from .attack import Watch, hello

if TYPE_CHECKING:
    from .conftest import Net, StartOrchestrator


async def test_oversized_and_aborted_registrations_leave_no_ghost_and_lock_nobody_out(
    orchestrator_factory: StartOrchestrator, net: Net
) -> None:
    orch = await orchestrator_factory()
    watch = Watch(orch)
    refusals = {
        "capabilities of 4 MB": hello("user", capabilities=tuple(f"{i}" + "c" * 60_000 for i in range(64))),
        "a name of 7 MB": hello("user", name="n" * 7_000_000),
        "65 capabilities": hello("user", capabilities=tuple(f"cap{i}" for i in range(65))),
        "a capability of 65 characters": hello("user", capabilities=("c" * 65,)),
        "a topic with an escape code": hello("user", topics=("news\x1b[2J",)),
        "a 33-byte public key": hello("user", public_key=b"k" * 33),
    }
    async with asyncio.timeout(20):
        for what, register in refusals.items():
            raw = net.raw(orch, "mallory")
            await raw.send(register)
            answer = await raw.read()
            assert answer.WhichOneof("payload") == "error", what
            assert answer.error.code in (ErrorCode.ENVELOPE_TOO_LARGE, ErrorCode.INVALID_ENVELOPE), what
        # Handshakes cut off at every moment: before, while and after the Registered answer.
        # gen2 holds the role ``generic``: a ghost of it would answer OVERLOADED for the role.
        for cut in range(12):
            call = pb_grpc.IacStub(net.mtls(orch, "gen2")).Connect()  # type: ignore[no-untyped-call]
            await call.write(net.frame_of(hello("generic")))
            if cut % 3 == 1:
                await call.read()
            elif cut % 3 == 2:
                await asyncio.sleep(0)  # let the server start answering, then vanish mid-answer
            call.cancel()
        await watch.until(lambda: not orch.board.connections and not orch.board.streams, timeout=10)
    assert len(orch.board.router) == 0
    assert orch.board.router.inflight() == ()

    # Nothing was lost: honest peers join, and every request to the role reaches a live agent.
    await net.echo(orch, "gen1")
    alice = await net.session(orch, "alice")
    async with asyncio.timeout(10):
        for i in range(4):  # round-robin would hit any ghost of the role
            result = await alice.bus.call(Address.role("generic"), Command("run", f"job {i}"), timeout=5)
            assert result.data == {"agent": "gen1"}
    assert [a.agent_id for a in orch.board.router.agents()] == ["gen1", "alice"]


async def test_the_agent_list_is_paged_and_clients_follow_the_pages(
    orchestrator_factory: StartOrchestrator, net: Net
) -> None:
    """A crowd of agents with the largest Registers allowed never makes an answer too big:
    Registered carries one page, the listing pages the rest, and the client reads them all."""
    orch = await orchestrator_factory(agents_page=3, streams_per_cert=16)
    big = tuple(f"{i:02d}" + "c" * 62 for i in range(64))
    issue_client(net.pki, "crowd", ["generic"], capabilities=big)  # a Register may claim only what is granted
    streams = []
    async with asyncio.timeout(20):
        for _ in range(7):
            raw = net.raw(orch, "crowd")
            assert (await raw.register("generic", capabilities=big)).WhichOneof("payload") == "registered"
            streams.append(raw)
        alice = await net.session(orch, "alice")
        assert len(alice.registered.agents) == 3
        assert alice.registered.more_agents
        listed = await alice.bus.list_agents()
    assert [a["agent_id"] for a in listed] == [a.agent_id for a in orch.board.router.agents()]
    assert len(listed) == 8


async def test_a_register_claiming_capabilities_its_certificate_lacks_is_refused(
    orchestrator_factory: StartOrchestrator, net: Net
) -> None:
    """Capabilities come from the certificate like roles: a peer granted only ``llm.chat``
    that announces ``exec.run`` too is refused and leaves nothing behind; the same peer
    announcing what it holds (or less) joins."""
    orch = await orchestrator_factory()
    issue_client(net.pki, "narrow", ["generic"], capabilities=["llm.chat"])
    watch = Watch(orch)
    async with asyncio.timeout(10):
        greedy = net.raw(orch, "narrow")
        answer = await greedy.register("generic", capabilities=("exec.run", "llm.chat"))
        assert answer.WhichOneof("payload") == "error"
        assert answer.error.code == ErrorCode.PERMISSION_DENIED
        assert "exec.run" in answer.error.message
        await watch.until(lambda: not orch.board.connections and not orch.board.streams, timeout=5)
        assert len(orch.board.router) == 0

        honest = net.raw(orch, "narrow")
        assert (await honest.register("generic", capabilities=("llm.chat",))).WhichOneof("payload") == "registered"
        modest = net.raw(orch, "narrow")
        assert (await modest.register("generic")).WhichOneof("payload") == "registered"
    [record, _] = orch.board.router.agents()
    assert (record.agent_id, record.capabilities) == ("narrow", frozenset({"llm.chat"}))


async def test_a_certificate_granting_no_capability_may_claim_none(
    orchestrator_factory: StartOrchestrator, net: Net
) -> None:
    """``user`` certificates grant nothing by default: a console claiming an agent's
    capability is refused, a console claiming none joins."""
    orch = await orchestrator_factory()
    async with asyncio.timeout(10):
        answer = await net.raw(orch, "mallory").register("user", capabilities=("fs.write",))
        assert answer.WhichOneof("payload") == "error"
        assert answer.error.code == ErrorCode.PERMISSION_DENIED
        assert (await net.raw(orch, "alice").register("user")).WhichOneof("payload") == "registered"
    assert [a.agent_id for a in orch.board.router.agents()] == ["alice"]
