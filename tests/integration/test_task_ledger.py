"""orchgpt's task ledger: every request it routes is recorded in SQLite with how it ended,
and it survives the orchestrator (open requests of a stopped run become interrupted)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING

import pytest

from autogpt.errors import AgentGoneError, ConfigError, NoLiveAgentError, UnreachableError
from autogpt.iac.envelope import Address, Command, Result, State, Status, Task
from orchgpt.ledger import read_entries

if TYPE_CHECKING:
    from conftest import Net, StartOrchestrator

    from orchgpt.server import Orchestrator


async def run(args: list[str]) -> str:
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_every_request_is_recorded_with_who_took_it_and_how_it_ended(
    orchestrator: Orchestrator, net: Net
) -> None:
    gen1 = await net.session(orchestrator, "gen1")
    alice = await net.session(orchestrator, "alice")
    task = Task("t2", "generic", "build the server", input={"idea": "todo"})
    asking = asyncio.create_task(alice.bus.call(Address.role("generic"), task, session_id="build-1"))
    async with asyncio.timeout(5):
        held = await gen1.bus.receive()
        assert held is not None
        await gen1.bus.status(held, Status(State.ACCEPTED))
        await gen1.bus.reply(held, Result(output="built", prompt_tokens=120, completion_tokens=45))
        assert (await asking).output == "built"
        with pytest.raises(NoLiveAgentError):
            await alice.bus.call(Address.role("architect"), Command("create", "an api"))
        failing = asyncio.create_task(alice.bus.call(Address.agent("gen1"), Command("run", "never answered")))
        assert await gen1.bus.receive() is not None
        await gen1.close()
        with pytest.raises(AgentGoneError):
            await failing
    await orchestrator.ledger.flush()
    rows = {e.what: e for e in read_entries(orchestrator.settings.ledger)}
    assert set(rows) == {"task generic: build the server", "create an api", "run never answered"}
    built = rows["task generic: build the server"]
    assert (built.state, built.requester, built.agent, built.recipient) == ("done", "alice", "gen1", "role:generic")
    assert (built.session_id, built.prompt_tokens, built.completion_tokens) == ("build-1", 120, 45)
    assert built.accepted_us is not None
    assert built.finished_us is not None
    assert built.created_us <= built.accepted_us <= built.finished_us
    refused = rows["create an api"]
    assert (refused.state, refused.error, refused.agent) == ("refused", "NO_LIVE_AGENT", "")
    gone = rows["run never answered"]
    assert (gone.state, gone.agent, gone.error) == ("gone", "gen1", "gen1 disconnected")


async def test_requests_open_at_shutdown_are_interrupted_and_orchgpt_tasks_shows_them(
    orchestrator_factory: StartOrchestrator, net: Net, tmp_path: pytest.TempPathFactory
) -> None:
    ledger = tmp_path / "shared-ledger.sqlite3"  # type: ignore[operator]
    first = await orchestrator_factory(ledger=ledger)
    with pytest.raises(ConfigError, match="another orchgpt is using the task ledger"):
        await orchestrator_factory(ledger=ledger)
    gen1 = await net.session(first, "gen1")
    alice = await net.session(first, "alice")
    accepted = asyncio.Event()
    asking = asyncio.create_task(
        alice.bus.call(
            Address.agent("gen1"), Command("run", "long job"), timeout=60, on_status=lambda _: accepted.set()
        )
    )
    async with asyncio.timeout(5):
        held = await gen1.bus.receive()
        assert held is not None
        await gen1.bus.status(held, Status(State.ACCEPTED))
        await accepted.wait()  # it went through orchgpt, which recorded it on the way
        await first.ledger.flush()
        assert [e.state for e in read_entries(ledger)] == ["accepted"]
        await first.stop(0)
        with pytest.raises(UnreachableError):
            await asking
    (entry,) = read_entries(ledger)
    assert (entry.state, entry.error) == ("interrupted", "orchgpt stopped")
    await orchestrator_factory(ledger=ledger)  # the ledger is free again once the first has stopped

    cli = [sys.executable, "-m", "orchgpt", "tasks", "--ledger", str(ledger)]
    shown = await run(cli)
    assert "interrupted" in shown
    assert "alice" in shown
    assert "gen1" in shown
    assert "run long job" in shown
    assert "in the ledger: 1 interrupted" in shown
    lines = await run([*cli, "--json"])
    assert [json.loads(line)["what"] for line in lines.splitlines()] == ["run long job"]
    done = await run([*cli, "--state", "done"])
    assert "0 shown" in done
