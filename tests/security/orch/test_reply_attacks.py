"""Attack: malformed JSON in a request or a reply, and an agent that never answers, so that
a requester (a program or the console) waits forever."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from typing import TYPE_CHECKING

import pytest

from autogpt.errors import ErrorCode, InvalidEnvelopeError
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.envelope import Address, Command

from .attack import request

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import Net, RawStream, StartOrchestrator


async def test_malformed_requests_get_one_error_reply_and_malformed_replies_fail_fast(
    orchestrator_factory: StartOrchestrator, net: Net
) -> None:
    orch = await orchestrator_factory()
    await net.echo(orch, "gen1")
    mallory = net.raw(orch, "mallory")
    await mallory.register("user")
    liar = net.raw(orch, "gen2")  # a generic agent whose replies are not JSON objects
    await liar.register("generic")
    alice = await net.session(orch, "alice")
    async with asyncio.timeout(10):
        for i, args in enumerate(["[1, 2]", "not json", "null", '"text"']):
            await mallory.send(request(pb.Address(agent_id="gen1"), args_json=args, id=f"bad-{i}"))
            _, answer = await mallory.until_reply(f"bad-{i}")
            assert (answer.sender, answer.error.code) == ("gen1", ErrorCode.INVALID_INPUT)
            assert "args_json" in answer.error.message
        asking = asyncio.create_task(alice.bus.call(Address.agent("gen2"), Command("run", "x"), timeout=60))
        taken = await liar.read()
        await liar.send(
            pb.Envelope(
                id="lie", correlation_id=taken.id, recipient=pb.Address(agent_id="alice"), kind=pb.KIND_REPLY,
                result=pb.Result(ok=True, data_json="[]"),
            )
        )  # fmt: skip
        with pytest.raises(InvalidEnvelopeError, match="malformed reply from gen2"):
            await asking  # at once, not after its 60 s deadline
        result = await alice.bus.call(Address.agent("gen1"), Command("run", "still fine"), timeout=5)
    assert result.output == "still fine"
    assert orch.board.router.inflight() == ()


async def _answer_terminates(agent: RawStream, malformed_for: str) -> None:
    """Answer ``run <malformed_for>`` with a reply that is not a JSON object, say nothing to
    other runs, and acknowledge every terminate."""
    while True:
        env = await agent.read()
        if env.kind != pb.KIND_REQUEST:
            continue
        if env.command.action == "terminate" or env.command.input == malformed_for:
            data = '{"stopped":1}' if env.command.action == "terminate" else "[1]"
            await agent.send(
                pb.Envelope(
                    id=f"re-{env.id}", correlation_id=env.id, recipient=pb.Address(agent_id=env.sender),
                    kind=pb.KIND_REPLY, result=pb.Result(ok=True, data_json=data),
                )
            )  # fmt: skip


async def test_the_console_gives_up_at_its_deadline_and_says_why(
    orchestrator_factory: StartOrchestrator, net: Net, pki: Path
) -> None:
    orch = await orchestrator_factory()
    agent = net.raw(orch, "gen1")
    await agent.register("generic")
    answering = asyncio.create_task(_answer_terminates(agent, "garbled"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORCHGPT_", "AUTOGPT_"))}
    env["AUTOGPT_COMMAND_TIMEOUT"] = "1"
    args = [sys.executable, "-m", "autogpt", "--net", "--orchestrator", net.target(orch)]
    args += ["--certs", str(pki), "--cert-name", "alice", "-c", "/gen run garbled", "-c", "/gen run silence"]
    try:
        proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
        )
        async with asyncio.timeout(60):
            _, err = await proc.communicate()
    finally:
        answering.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await answering
    assert proc.returncode == 1
    said = err.decode()
    assert "malformed reply from gen1" in said
    assert "no reply within 1s" in said
    assert "AUTOGPT_COMMAND_TIMEOUT" in said
