"""Attack: a third party answers, reports on or cancels a request that is not its own, and
replays a signed order or sends one dated long ago."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest

from autogpt.agents.generic import GenericGPT
from autogpt.errors import ErrorCode, WorkCancelledError
from autogpt.iac import codec
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.envelope import Address, Command, Envelope, Kind, Result
from autogpt.iac.signing import ReplayGuard, Signer
from autogpt.llm.base import Message, Options
from autogpt.llm.doubles import FunctionLLM
from autogpt.net.trust import KeyBook

from .attack import ledger_rows, request

if TYPE_CHECKING:
    from orchgpt.server import Orchestrator

    from .conftest import Net


async def test_only_the_agent_asked_answers_and_only_the_requester_cancels(
    orchestrator: Orchestrator, net: Net
) -> None:
    alice = await net.session(orchestrator, "alice")
    worker = net.raw(orchestrator, "back1")
    await worker.register("backend")
    mallory = net.raw(orchestrator, "mallory")
    await mallory.register("user")
    async with asyncio.timeout(10):
        asking = asyncio.create_task(alice.bus.call(Address.role("backend"), Command("run", "job"), timeout=10))
        taken = await worker.read()
        forged = [
            pb.Envelope(
                id="forged-reply", correlation_id=taken.id, recipient=pb.Address(agent_id="alice"),
                kind=pb.KIND_REPLY,
                result=pb.Result(ok=True, output="forged", usage=pb.Usage(prompt_tokens=10**6)),
            ),
            pb.Envelope(
                id="forged-status", correlation_id=taken.id, recipient=pb.Address(agent_id="alice"),
                kind=pb.KIND_EVENT, status=pb.Status(state=pb.Status.STATE_ACCEPTED),
            ),
        ]  # fmt: skip
        via_role = [pb.Envelope(), pb.Envelope()]  # the same, to the role ``user`` rather than to alice
        for copy, original in zip(via_role, forged, strict=True):
            copy.CopyFrom(original)
            copy.id = f"{original.id}-via-role"
            copy.recipient.CopyFrom(pb.Address(role="user"))
        await mallory.send(*forged, *via_role)
        notices = [await mallory.read(), await mallory.read(), await mallory.read()]
        assert [(n.kind, n.error.code, n.correlation_id) for n in notices] == [
            (pb.KIND_CONTROL, ErrorCode.PERMISSION_DENIED, "forged-reply"),
            (pb.KIND_CONTROL, ErrorCode.PERMISSION_DENIED, "forged-status"),
            (pb.KIND_CONTROL, ErrorCode.INVALID_ENVELOPE, "forged-status-via-role"),
        ]  # a refused reply to a role is dropped without a notice (a notice could loop)
        assert not asking.done()
        real = codec.to_proto(
            Envelope.new(Address.agent("alice"), Result(output="real", prompt_tokens=5, completion_tokens=6),
                         kind=Kind.REPLY, correlation_id=taken.id)
        )  # fmt: skip
        await worker.send(real)
        assert (await asking).output == "real"
    (row,) = [r for r in await ledger_rows(orchestrator) if r.request_id == taken.id]
    assert (row.state, row.prompt_tokens, row.completion_tokens, row.agent) == ("done", 5, 6, "back1")


async def test_a_third_party_cannot_terminate_anothers_request(orchestrator: Orchestrator, net: Net) -> None:
    release = asyncio.Event()

    async def slow(messages: Sequence[Message], options: Options) -> str:
        await release.wait()
        return "finished"

    gen1 = await net.session(orchestrator, "gen1")
    agent = GenericGPT(FunctionLLM(slow), gen1.bus)
    serving = asyncio.create_task(agent.serve())
    alice = net.raw(orchestrator, "alice")
    await alice.register("user")
    mallory = await net.session(orchestrator, "mallory")
    try:
        async with asyncio.timeout(10):
            await alice.send(request(pb.Address(agent_id="gen1"), "run", "work", id="victim"))
            accepted = await alice.read()  # the agent has taken it and is working on it
            assert (accepted.correlation_id, accepted.status.state) == ("victim", pb.Status.STATE_ACCEPTED)
            with pytest.raises(WorkCancelledError, match="no running request"):
                await mallory.bus.call(Address.agent("gen1"), Command("terminate", "victim"), timeout=5)
            stopped = await mallory.bus.call(Address.agent("gen1"), Command("terminate"), timeout=5)
            assert stopped.data == {"stopped": 0}
            release.set()
            _, answer = await alice.until_reply("victim")
            assert answer.result.ok
            assert "finished" in answer.result.output
    finally:
        await gen1.close()
        await serving


async def test_replayed_and_stale_signed_orders_are_refused(orchestrator: Orchestrator, net: Net) -> None:
    gen1 = await net.session(orchestrator, "gen1", signer=Signer.generate())
    agent = GenericGPT(FunctionLLM(lambda m, o: "done"), gen1.bus, verify=KeyBook(gen1.bus, ReplayGuard(300)).check)
    serving = asyncio.create_task(agent.serve())
    signer = Signer.generate()
    alice = net.raw(orchestrator, "alice")
    await alice.register("user", public_key=signer.public_key)
    order = signer.sign(Envelope.new(Address.agent("gen1"), Command("run", "pay bob"), kind=Kind.REQUEST))
    old = signer.sign(dataclasses.replace(order, id="from-2001", timestamp_us=978_307_200_000_000))
    try:
        async with asyncio.timeout(10):
            await alice.send(order)
            _, first = await alice.until_reply(order.id)
            assert first.result.output == "done"
            await alice.send(order)  # the identical envelope again
            _, again = await alice.until_reply(order.id)
            assert again.error.code == ErrorCode.BAD_SIGNATURE
            assert "already received" in again.error.message
            await alice.send(old)
            _, stale = await alice.until_reply("from-2001")
            assert stale.error.code == ErrorCode.BAD_SIGNATURE
            assert "stale" in stale.error.message
    finally:
        await gen1.close()
        await serving
