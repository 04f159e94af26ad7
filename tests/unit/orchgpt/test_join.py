"""Joining the switchboard: ids stay unique, the Registered answer is joined from encodings
made once per agent, and a writer waits for work without per-connection Events."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from autogpt.iac._gen import iac_pb2 as pb
from orchgpt.admission import info
from orchgpt.connection import Connection, Peer
from orchgpt.switchboard import Switchboard

IDLE = Peer("idle", frozenset({"generic"}), frozenset({"llm.chat"}))


def _register(**fields: object) -> pb.Register:
    return pb.Register(protocol_version=pb.PROTOCOL_VERSION_1, role="generic", **fields)  # type: ignore[arg-type]


def test_a_suffix_already_taken_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    board = Switchboard(max_envelope_bytes=1 << 20, queue_size=16, streams_per_cert=8)
    draws = iter(["a" * 32, "a" * 32, "b" * 32])
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(next(draws)))
    ids = [board.admit(IDLE, _register()).agent_id for _ in range(3)]
    assert ids == ["idle", "idle-aaaaaa", "idle-bbbbbb"]


def test_registered_lists_the_first_page_as_protobuf_would() -> None:
    board = Switchboard(max_envelope_bytes=1 << 20, queue_size=16, streams_per_cert=8, agents_page=2)
    conns = [board.admit(IDLE, _register(capabilities=["llm.chat"], public_key=bytes(32))) for _ in range(3)]
    answer = pb.Envelope.FromString(board.registered(conns[2]))
    assert answer.sender == "router"
    assert answer.recipient.agent_id == conns[2].agent_id
    assert answer.kind == pb.KIND_CONTROL
    registered = answer.registered
    assert (registered.agent_id, registered.more_agents, registered.heartbeat_ms) == (conns[2].agent_id, True, 10000)
    expected = [info(r) for r in board.router.window(0, 2)]
    assert list(registered.agents) == expected
    assert registered.agents[0].capabilities == ["llm.chat"]
    board.leave(conns[0])
    board.leave(conns[1])
    alone = pb.Envelope.FromString(board.registered(conns[2])).registered
    assert [a.agent_id for a in alone.agents] == [conns[2].agent_id]
    assert not alone.more_agents


async def test_the_writer_sleeps_until_an_envelope_or_the_close() -> None:
    conn = Connection("a", IDLE, "generic", queue_size=16)
    assert conn.queued == (0, 0)
    frames = conn.frames()
    waiting = asyncio.ensure_future(anext(frames))
    await asyncio.sleep(0)
    assert not waiting.done()
    assert conn.offer(b"\x0a\x01x")
    assert await waiting == b"\x0a\x03\x0a\x01x"
    ending = asyncio.ensure_future(anext(frames))
    await asyncio.sleep(0)
    conn.close()
    with pytest.raises(StopAsyncIteration):
        await ending
    assert not conn.offer(b"late")
