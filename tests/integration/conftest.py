"""Shared fixtures for tests against a real orchgpt: a per-test PKI, orchestrators on
port 0 over mutual TLS, and a :class:`Net` helper that opens (and always closes)
sessions, raw gRPC streams and channels, and runs small echo agents."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from autogpt.iac import codec
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac._gen import iac_pb2_grpc as pb_grpc
from autogpt.iac.envelope import ROUTER_ID, Address, Command, Envelope, Kind, Register, Result, State, Status
from autogpt.net.link import NetSession, TlsFiles, connect
from orchgpt.config import load_orch_settings
from orchgpt.pki import make_test_pki
from orchgpt.server import Orchestrator

CLIENTS: dict[str, list[str]] = {
    "gen1": ["generic"],
    "gen2": ["generic"],
    "back1": ["backend"],
    "alice": ["user"],
    "mallory": ["user"],
}

StartOrchestrator = Callable[..., Awaitable[Orchestrator]]


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    """A CA, a localhost server certificate and one client certificate per CLIENTS entry."""
    return make_test_pki(tmp_path / "pki", CLIENTS)


@pytest.fixture
async def orchestrator_factory(
    pki: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StartOrchestrator]:
    """``await start(**settings)``: a started Orchestrator on 127.0.0.1:0, stopped after the test."""
    for name in list(os.environ):
        if name.startswith("ORCHGPT_"):
            monkeypatch.delenv(name)
    started: list[Orchestrator] = []

    async def start(**overrides: Any) -> Orchestrator:
        settings = {"ledger": tmp_path / f"ledger-{len(started)}.sqlite3", **overrides}
        orch = Orchestrator(load_orch_settings(listen="127.0.0.1:0", certs=pki, **settings))
        started.append(orch)
        await orch.start()
        return orch

    yield start
    for orch in started:
        await orch.stop(0)


@pytest.fixture
async def orchestrator(orchestrator_factory: StartOrchestrator) -> Orchestrator:
    return await orchestrator_factory()


def target(orch: Orchestrator) -> str:
    return f"localhost:{orch.port}"


def frame_of(*envelopes: pb.Envelope | Envelope) -> pb.Frame:
    return pb.Frame(envelopes=[e if isinstance(e, pb.Envelope) else codec.to_proto(e) for e in envelopes])


def agents_request(envelope_id: str = "probe") -> pb.Envelope:
    """A valid request to the router: its reply proves a connection still works."""
    env = Envelope.new(Address.agent(ROUTER_ID), Command("agents"), kind=Kind.REQUEST)
    msg = codec.to_proto(env)
    msg.id = envelope_id
    return msg


class RawStream:
    """One Iac Connect stream driven by hand, for what a NetSession would never send."""

    def __init__(self, call: grpc.aio.StreamStreamCall[pb.Frame, pb.Frame]) -> None:
        self.call = call
        self._buffer: deque[pb.Envelope] = deque()

    async def register(self, role: str, **fields: Any) -> pb.Envelope:
        hello = Envelope.new(Address.agent(ROUTER_ID), Register(role, **fields), kind=Kind.CONTROL)
        await self.send(hello)
        return await self.read()

    async def send(self, *envelopes: pb.Envelope | Envelope) -> None:
        await self.call.write(frame_of(*envelopes))

    async def read(self) -> pb.Envelope:
        """The next envelope from the server; AssertionError when the stream ends."""
        while not self._buffer:
            frame = await self.call.read()
            assert frame is not grpc.aio.EOF, "the server ended the stream"  # type: ignore[attr-defined]
            assert isinstance(frame, pb.Frame)
            self._buffer.extend(frame.envelopes)
        return self._buffer.popleft()

    async def until_reply(self, correlation_id: str) -> tuple[list[pb.Envelope], pb.Envelope]:
        """Everything that arrives before the reply to ``correlation_id``, and that reply."""
        before: list[pb.Envelope] = []
        while True:
            env = await self.read()
            if env.kind == pb.KIND_REPLY and env.correlation_id == correlation_id:
                return before, env
            before.append(env)


class EchoAgent:
    """Answers every Command request with its input, after one status per ``args["deltas"]``
    item, and notes its action in ``actions``; everything else it receives lands in ``inbox``."""

    def __init__(self, session: NetSession) -> None:
        self.session = session
        self.actions: list[str] = []
        self.inbox: asyncio.Queue[Envelope] = asyncio.Queue()
        self.task = asyncio.create_task(self._serve(), name=f"echo-{session.bus.agent_id}")

    async def _serve(self) -> None:
        bus = self.session.bus
        async for env in bus:
            if env.kind == Kind.REQUEST and isinstance(env.payload, Command):
                self.actions.append(env.payload.action)
                for delta in env.payload.args.get("deltas", []):
                    await bus.status(env, Status(State.WORKING, delta=delta))
                await bus.reply(env, Result(output=env.payload.input, data={"agent": bus.agent_id}))
            else:
                self.inbox.put_nowait(env)


class Net:
    """Opens clients against an orchestrator and closes every one of them afterwards.

    Test modules reach the helpers above through this fixture object (``net.target``,
    ``net.frame_of``, ...) rather than importing conftest."""

    target = staticmethod(target)
    frame_of = staticmethod(frame_of)
    agents_request = staticmethod(agents_request)

    def __init__(self, pki: Path) -> None:
        self.pki = pki
        self._sessions: list[NetSession] = []
        self._channels: list[grpc.aio.Channel] = []
        self._agents: list[EchoAgent] = []

    async def session(self, orch: Orchestrator, name: str, role: str | None = None, **kw: Any) -> NetSession:
        register = Register(
            role or CLIENTS[name][0], topics=tuple(kw.pop("topics", ())), actions=tuple(kw.pop("actions", ()))
        )
        session = await connect(target(orch), TlsFiles.from_dir(self.pki, name), register, timeout=5, **kw)
        self._sessions.append(session)
        return session

    async def echo(self, orch: Orchestrator, name: str, **kw: Any) -> EchoAgent:
        agent = EchoAgent(await self.session(orch, name, **kw))
        self._agents.append(agent)
        return agent

    def channel(self, orch: Orchestrator, credentials: grpc.ChannelCredentials | None = None) -> grpc.aio.Channel:
        """A channel to ``orch``: plaintext when ``credentials`` is None."""
        if credentials is None:
            channel = grpc.aio.insecure_channel(f"127.0.0.1:{orch.port}")
        else:
            channel = grpc.aio.secure_channel(target(orch), credentials)
        self._channels.append(channel)
        return channel

    def mtls(self, orch: Orchestrator, name: str) -> grpc.aio.Channel:
        return self.channel(orch, TlsFiles.from_dir(self.pki, name).credentials())

    def raw(self, orch: Orchestrator, name: str) -> RawStream:
        return RawStream(pb_grpc.IacStub(self.mtls(orch, name)).Connect())  # type: ignore[no-untyped-call]

    async def aclose(self) -> None:
        for session in self._sessions:
            await session.close()
        for agent in self._agents:
            agent.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await agent.task
        for channel in self._channels:
            await channel.close(None)


@pytest.fixture
async def net(pki: Path, orchestrator_factory: StartOrchestrator) -> AsyncIterator[Net]:
    """Depends on the orchestrator factory so that clients close before servers stop."""
    helper = Net(pki)
    yield helper
    await helper.aclose()
