"""The team's shared memory through a real orchgpt over mutual TLS, certificates made per test."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from autogpt.errors import ErrorCode, InvalidInputError, PermissionDeniedError
from autogpt.iac.envelope import ROUTER_ID, Address, Command
from autogpt.memory.shared import SharedMemoryClient
from orchgpt.pki import issue_client
from orchgpt.server import Orchestrator

if TYPE_CHECKING:
    from conftest import Net, StartOrchestrator


@pytest.fixture
async def orch(orchestrator_factory: StartOrchestrator, tmp_path: Path) -> Orchestrator:
    return await orchestrator_factory(memory=tmp_path / "shared.sqlite3", embedder="hash")


async def client(net: Net, orch: Orchestrator, name: str, role: str | None = None) -> SharedMemoryClient:
    return SharedMemoryClient((await net.session(orch, name, role)).bus, timeout=10)


async def test_one_agent_writes_and_another_reads(orch: Orchestrator, net: Net) -> None:
    writer, reader = await client(net, orch, "gen1"), await client(net, orch, "back1")
    first = await writer.remember("the staging API listens on port 8443")
    await writer.remember("the shop project deploys to fly.io", namespace="project:shop")
    found = await reader.recall("which port does the staging API listen on")
    assert [(m.id, m.text, m.meta["by"]) for m in found] == [(first, "the staging API listens on port 8443", "gen1")]
    assert found[0].score > 0.3
    shop = await reader.recall("where does the shop deploy", namespaces=["project:shop", "shared"], k=1)
    assert [m.text for m in shop] == ["the shop project deploys to fly.io"]
    assert await reader.forget([first]) == 1
    assert await writer.recall("which port does the staging API listen on") == []
    assert orch.board.shared_memory is not None
    assert orch.board.shared_memory.store.count() == 1  # kept by orchgpt, in its own file


async def test_a_certificate_without_the_capability_is_denied(orch: Orchestrator, net: Net, pki: Path) -> None:
    writer = await client(net, orch, "gen1")
    await writer.remember("the deploy key rotates on Mondays")
    user = await client(net, orch, "alice")  # the user role's certificate grants no memory capability
    with pytest.raises(PermissionDeniedError, match=r"does not grant memory\.read"):
        await user.recall("deploy key")
    with pytest.raises(PermissionDeniedError, match=r"does not grant memory\.write"):
        await user.remember("a fact from a stranger")
    issue_client(pki, "reader1", ["generic"], capabilities=["llm.chat", "memory.read"])  # reads, may not write
    reader = await client(net, orch, "reader1", "generic")
    assert [m.text for m in await reader.recall("deploy key")] == ["the deploy key rotates on Mondays"]
    with pytest.raises(PermissionDeniedError, match=r"memory\.write"):
        await reader.remember("overwritten")
    with pytest.raises(PermissionDeniedError):
        await reader.forget([1])
    assert [m.text for m in await writer.recall("deploy key")] == ["the deploy key rotates on Mondays"]


async def test_bad_input_gets_a_typed_error_and_the_server_keeps_serving(orch: Orchestrator, net: Net) -> None:
    agent = await client(net, orch, "gen1")
    with pytest.raises(InvalidInputError, match="at most 4000") as huge:
        await agent.remember("x" * 100_000)
    assert huge.value.code is ErrorCode.INVALID_INPUT
    for namespace in ("agent:backend", "Shared", "shared:../etc", "", "project:" + "a" * 65):
        with pytest.raises(InvalidInputError, match="bad memory namespace"):
            await agent.remember("a fact", namespace=namespace)
    with pytest.raises(InvalidInputError, match="k must be"):
        await agent.recall("anything", k=10_000)
    with pytest.raises(InvalidInputError, match="namespaces must be"):
        await agent.recall("anything", namespaces=[f"shared:n{i}" for i in range(20)])
    with pytest.raises(InvalidInputError, match="nothing to remember"):
        await agent.remember("   ")
    bus = agent.bus
    with pytest.raises(InvalidInputError, match="ids must be a list"):
        await bus.call(Address.agent(ROUTER_ID), Command("memory.forget", args={"ids": "all"}), timeout=10)
    # still serving, for this agent and for a new one
    kept = await agent.remember("after all that, this is kept")
    other = await client(net, orch, "gen2")
    assert [m.id for m in await other.recall("this is kept")] == [kept]
    assert orch.board.shared_memory is not None
    assert orch.board.shared_memory.store.count() == 1


async def test_many_requests_at_once_are_all_answered(orch: Orchestrator, net: Net) -> None:
    """The worker serves requests in turn; the router keeps routing meanwhile."""
    agent = await client(net, orch, "gen1")
    ids = await asyncio.gather(*(agent.remember(f"fact number {i} about topic {i}") for i in range(40)))
    assert sorted(ids) == list(range(1, 41))
    listing = await agent.bus.list_agents()
    assert [a["agent_id"] for a in listing] == ["gen1"]
    hits = await agent.recall("fact number 17 about topic 17", k=1)
    assert [m.text for m in hits] == ["fact number 17 about topic 17"]
