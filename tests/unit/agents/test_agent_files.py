"""Agents whose workspaces are different folders fetch what they need and send back what
they made; agents sharing a folder move nothing."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from autogpt.agents.base import Agent, Context, action
from autogpt.errors import InvalidEnvelopeError, PermissionDeniedError
from autogpt.iac.bus import Bus
from autogpt.iac.envelope import Address, Artifact, Command, Envelope, FileChunk, Kind, Result, Status, Task
from autogpt.iac.memory import InMemoryHub
from autogpt.llm.doubles import FunctionLLM
from autogpt.tools.workspace import Workspace


class Scribe(Agent):
    """Reads notes/input.txt, writes out/upper.txt; its result names what it wrote."""

    name = "Scribe"
    role = "scribe"

    @action("run", help="upper-case notes/input.txt into out/upper.txt")
    async def run(self, command: Command, ctx: Context) -> Result:
        assert self.workspace is not None
        text = self.workspace.read_text("notes/input.txt")
        record = self.workspace.write_text("out/upper.txt", text.upper(), agent=self.name)
        return Result(output="done", artifacts=(Artifact(record.path, "file", record.size, record.sha256),))


@dataclass
class Setup:
    hub: InMemoryHub
    user: Bus
    agent: Scribe
    chunks: list[Envelope]

    async def ask(self, files: Workspace, payload: Task | Command | None = None) -> tuple[Result, list[str]]:
        seen: list[Status] = []
        result = await self.user.call(
            Address.role("scribe"),
            payload or Task("t1", "scribe", "shout"),
            files=files,
            on_status=seen.append,
            timeout=10,
        )
        return result, [s.message for s in seen]


@pytest.fixture
async def team(tmp_path: Path) -> AsyncIterator[Setup]:
    hub = InMemoryHub()
    chunks: list[Envelope] = []
    dispatch = hub.dispatch

    def spy(envelope: Envelope) -> None:
        if isinstance(envelope.payload, FileChunk):
            chunks.append(envelope)
        dispatch(envelope)

    hub.dispatch = spy  # type: ignore[method-assign]
    agent = Scribe(FunctionLLM(lambda m, o: ""), hub.connect("scribe"), workspace=Workspace(tmp_path / "scribe"))
    serving = asyncio.create_task(agent.serve())
    user = hub.connect("manager", agent_id="man1")
    yield Setup(hub, user, agent, chunks)
    await user.close()
    await agent.bus.close()
    await serving


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_a_worker_elsewhere_fetches_its_inputs_and_sends_back_its_results(team: Setup, tmp_path: Path) -> None:
    mine = Workspace(tmp_path / "man").ensure()
    mine.write_text("notes/input.txt", "hello\n")
    result, seen = await team.ask(mine)
    assert result.output == "done"
    theirs = tmp_path / "scribe"
    assert (theirs / "notes/input.txt").read_text() == "hello\n"  # fetched before the action ran
    assert (mine.root / "out/upper.txt").read_text() == "HELLO\n"  # back before the call returned
    assert sha(mine.root / "out/upper.txt") == sha(theirs / "out/upper.txt")
    assert "fetching 1 file(s) from man1" in seen
    assert "sent 1 file(s) to man1" in seen
    assert all(e.kind == Kind.EVENT and e.correlation_id for e in team.chunks)
    assert [(e.sender, e.recipient.value) for e in team.chunks] == [("man1", "scribe-1"), ("scribe-1", "man1")]

    team.chunks.clear()  # again, with nothing changed: nothing moves
    result, seen = await team.ask(mine)
    assert result.ok
    assert team.chunks == []
    assert not any(line.startswith(("fetching", "sent")) for line in seen)


async def test_workers_sharing_the_folder_move_nothing(team: Setup) -> None:
    assert team.agent.workspace is not None
    shared = Workspace(team.agent.workspace.root).ensure()  # another process on the same folder
    shared.write_text("notes/input.txt", "hi\n")
    result, seen = await team.ask(shared, Command("run"))
    assert result.ok
    assert (shared.root / "out/upper.txt").read_text() == "HI\n"
    assert team.chunks == []
    assert not any(line.startswith(("fetching", "sent")) for line in seen)


async def test_a_malformed_offer_is_refused_with_a_typed_error(team: Setup) -> None:
    bad = Task("t1", "scribe", "shout", input={"workspace": {"id": "x", "files": {"../../etc/passwd": {}}}})
    with pytest.raises(InvalidEnvelopeError, match="not a project file"):
        await team.user.call(Address.role("scribe"), bad, timeout=10)


async def test_an_agent_offers_nothing_outside_a_live_request(team: Setup, tmp_path: Path) -> None:
    stale = Envelope.new(Address.agent("man1"), Task("t0", "scribe", "old"), kind=Kind.REQUEST, sender="scribe-1")
    with pytest.raises(PermissionDeniedError, match="offers no files"):
        await team.user.fetch(stale, ["notes/input.txt"], Workspace(tmp_path / "x"))
