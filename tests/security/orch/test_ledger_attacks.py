"""Attack: a peer floods the task ledger with junk requests to push out everyone else's
history, and writes terminal escape codes into what ``orchgpt tasks`` prints."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING

from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.envelope import Address, Command

from .attack import ledger_rows, request

if TYPE_CHECKING:
    from .conftest import Net, StartOrchestrator

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x9b1m"


async def test_a_flood_evicts_only_its_own_rows_and_nothing_prints_raw(
    orchestrator_factory: StartOrchestrator, net: Net
) -> None:
    orch = await orchestrator_factory(ledger_keep=100)
    await net.echo(orch, "gen1")
    alice = await net.session(orch, "alice")
    mallory = net.raw(orch, "mallory")
    await mallory.register("user")
    async with asyncio.timeout(30):
        for i in range(3):
            await alice.bus.call(Address.role("generic"), Command("run", f"alice job {i}"), timeout=5)
        for batch in range(6):  # 3,000 junk requests, each refused and recorded
            ids = [f"junk-{batch}-{i}" for i in range(500)]
            await mallory.send(*(request(pb.Address(agent_id="nobody"), id=i) for i in ids))
            await mallory.until_reply(ids[-1])
        await mallory.send(request(pb.Address(agent_id="gen1"), "run", ESCAPES, id="escapes"))
        await mallory.until_reply("escapes")
        rows = await ledger_rows(orch)
    alices = sorted(r.what for r in rows if r.requester == "alice")
    assert alices == ["run alice job 0", "run alice job 1", "run alice job 2"]
    assert [r.state for r in rows if r.requester == "alice"] == ["done"] * 3
    assert 100 <= sum(r.requester == "mallory" for r in rows) <= 110  # its own quota, and no more

    await orch.ledger.flush()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORCHGPT_", "AUTOGPT_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orchgpt", "tasks", "--ledger", str(orch.settings.ledger), "--limit", "100000",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err
    text = out.decode()
    assert "alice job 2" in text
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\x9b" not in text
    assert "\\x1b]0;owned\\x07" in text
