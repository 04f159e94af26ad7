"""The Bus moves files for requests made with ``files=``: chunks in, fetches out, nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from autogpt.errors import ErrorCode, PermissionDeniedError, TransferError
from autogpt.iac.bus import Bus, Link
from autogpt.iac.envelope import Address, Command, Envelope, ErrorInfo, FileChunk, Kind, Result, State, Status, Task
from autogpt.iac.memory import InMemoryHub
from autogpt.iac.transfer import Offer, fetch_command, offer_of, split
from autogpt.tools.workspace import Workspace

Work = Callable[[Bus, Envelope], Awaitable[None]]


@dataclass
class Pair:
    hub: InMemoryHub
    man: Bus
    back: Bus
    man_ws: Workspace
    back_ws: Workspace
    chunks: list[FileChunk]

    async def call(self, work: Work, payload: Task | Command | None = None) -> Result:
        """One request from man to back, handled by ``work`` and then answered."""

        async def serve() -> None:
            env = await self.back.receive()
            assert env is not None
            await work(self.back, env)
            await self.back.reply(env, Result(output="done"))

        server = asyncio.create_task(serve())
        try:
            return await self.man.call(
                Address.role("backend"), payload or Task("t1", "backend", "build"), files=self.man_ws, timeout=10
            )
        finally:
            await server


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    hub = InMemoryHub()
    chunks: list[FileChunk] = []
    dispatch = hub.dispatch

    def spy(envelope: Envelope) -> None:
        if isinstance(envelope.payload, FileChunk):
            chunks.append(envelope.payload)
        dispatch(envelope)

    hub.dispatch = spy  # type: ignore[method-assign]
    man, back = hub.connect("manager", agent_id="man1"), hub.connect("backend", agent_id="back1")
    man_ws, back_ws = Workspace(tmp_path / "man").ensure(), Workspace(tmp_path / "back").ensure()
    yield Pair(hub, man, back, man_ws, back_ws, chunks)
    await man.close()
    await back.close()


def offer(env: Envelope) -> Offer:
    found = offer_of(env.payload)
    assert found is not None
    return found


async def test_files_sent_for_a_request_are_written_before_the_call_returns(pair: Pair) -> None:
    pair.man_ws.write_text("contract.json", '{"routes": []}\n')
    pair.back_ws.write_text("contract.json", '{"routes": []}\n')  # the same: skipped
    pair.back_ws.write_bytes("app/main.py", b"x" * 600_000)  # three chunks
    pair.back_ws.write_text("app/settings.py", "KEY = 'sk-" + "a" * 30 + "'\n")  # looks like a secret

    async def work(bus: Bus, env: Envelope) -> None:
        offered = offer(env)
        assert offered.workspace == pair.man_ws.identity
        assert set(offered.files) == {"contract.json"}
        skip = {path: entry.sha256 for path, entry in offered.files.items()}
        wanted = ["app/main.py", "contract.json", ".env", "app/settings.py"]
        sent = await bus.send_files(env, pair.back_ws, wanted, skip=skip)
        assert sent == ["app/main.py"]

    result = await pair.call(work)
    assert result.output == "done"
    assert (pair.man_ws.root / "app/main.py").read_bytes() == b"x" * 600_000
    assert not (pair.man_ws.root / "app/settings.py").exists()
    assert [c.offset for c in pair.chunks] == [0, 262144, 524288]
    assert pair.man_ws.writes[-1].agent == "back1"


async def test_an_offer_rides_in_commands_too(pair: Pair) -> None:
    pair.man_ws.write_text("app/main.py", "x = 1\n")

    async def work(bus: Bus, env: Envelope) -> None:
        assert isinstance(env.payload, Command)
        assert env.payload.args["author"] == "BackendGPT"
        assert set(offer(env).files) == {"app/main.py"}

    await pair.call(work, Command("commit", "m", args={"author": "BackendGPT"}))


async def test_the_worker_fetches_offered_files_while_the_request_waits(pair: Pair) -> None:
    pair.man_ws.write_text("contract.json", '{"routes": []}\n')
    pair.man_ws.write_bytes("assets/logo.bin", bytes(range(256)) * 2000)
    fetched: list[str] = []

    async def work(bus: Bus, env: Envelope) -> None:
        fetched.extend(await bus.fetch(env, sorted(offer(env).files), pair.back_ws))

    await pair.call(work)
    assert fetched == ["assets/logo.bin", "contract.json"]
    for path in fetched:
        assert (pair.back_ws.root / path).read_bytes() == (pair.man_ws.root / path).read_bytes()


async def test_only_offered_paths_can_be_fetched(pair: Pair) -> None:
    pair.man_ws.write_text("contract.json", "{}\n")
    pair.man_ws.write_text(".env", "TOKEN=1\n")  # present, but never offered

    async def work(bus: Bus, env: Envelope) -> None:
        with pytest.raises(PermissionDeniedError, match=r"not offered: '\.env'"):
            await bus.fetch(env, ["contract.json", ".env"], pair.back_ws)
        with pytest.raises(PermissionDeniedError, match="not offered"):
            await bus.fetch(env, ["../../etc/passwd"], pair.back_ws)

    await pair.call(work)
    assert not (pair.back_ws.root / ".env").exists()
    assert not (pair.back_ws.root / "contract.json").exists()  # all or nothing


async def test_a_fetch_from_anyone_but_the_peer_is_not_served(pair: Pair) -> None:
    pair.man_ws.write_text("contract.json", "{}\n")
    intruder = pair.hub.connect("backend", agent_id="mallory")
    intruder_ws = Workspace(pair.man_ws.root.parent / "mallory").ensure()

    async def work(bus: Bus, env: Envelope) -> None:
        await bus.fetch(env, ["contract.json"], pair.back_ws)  # served: back1 took the task
        stolen = asyncio.create_task(intruder.fetch(env, ["contract.json"], intruder_ws, timeout=None))
        queued = await pair.man.receive()  # not served: it waits in man1's inbox like any request
        assert queued is not None
        assert queued.sender == "mallory"
        await pair.man.reply(queued, Result(ok=False))
        await stolen
        assert intruder_ws.files() == []

    await pair.call(work)
    await intruder.close()


async def test_chunks_from_another_agent_or_for_no_request_are_dropped(pair: Pair) -> None:
    intruder = pair.hub.connect("backend", agent_id="mallory")
    (chunk,) = split("app/main.py", b"import os; os.system('rm -rf ~')\n")

    async def work(bus: Bus, env: Envelope) -> None:
        await bus.status(env, Status(State.ACCEPTED, "accepted"))  # back1 took the task
        await intruder.send(env.answer(chunk, kind=Kind.EVENT))  # knows the request id, is not the peer
        orphan = Envelope.new(Address.agent("man1"), replace(chunk, transfer_id="t2"), correlation_id="nope")
        await intruder.send(orphan)  # no such request
        await bus.send(Envelope.new(Address.agent("man1"), replace(chunk, transfer_id="t3")))  # uncorrelated

    await pair.call(work)
    assert not (pair.man_ws.root / "app/main.py").exists()
    await pair.man.close()
    assert await pair.man.receive() is None  # none of them landed in the inbox either
    await intruder.close()


async def test_a_request_without_files_takes_no_chunks(pair: Pair) -> None:
    pair.back_ws.write_text("app/main.py", "x = 1\n")

    async def serve() -> None:
        env = await pair.back.receive()
        assert env is not None
        assert offer_of(env.payload) is None
        await pair.back.send_files(env, pair.back_ws, ["app/main.py"])
        await pair.back.reply(env, Result())

    async with asyncio.TaskGroup() as tg:
        tg.create_task(serve())
        await pair.man.call(Address.role("backend"), Task("t1", "backend", "b"), timeout=10)
    assert not (pair.man_ws.root / "app/main.py").exists()
    assert len(pair.chunks) == 1


async def test_a_broken_transfer_fails_the_request_and_writes_nothing(pair: Pair) -> None:
    first, second = split("app/main.py", b"abcdef", chunk_bytes=3)

    async def work(bus: Bus, env: Envelope) -> None:
        await bus.send(env.answer(first, kind=Kind.EVENT))
        await bus.send(env.answer(replace(second, sha256="0" * 64), kind=Kind.EVENT))

    with pytest.raises(TransferError, match="sha256"):
        await pair.call(work)
    assert not (pair.man_ws.root / "app/main.py").exists()


async def test_a_transfer_left_open_fails_the_request(pair: Pair) -> None:
    first, _ = split("app/main.py", b"abcdef", chunk_bytes=3)

    async def work(bus: Bus, env: Envelope) -> None:
        await bus.send(env.answer(first, kind=Kind.EVENT))

    with pytest.raises(TransferError, match="incomplete"):
        await pair.call(work)
    assert pair.man_ws.files() == [".autogpt/workspace-id"]


class GatedLink(Link):
    """Holds back file chunks until ``gate`` opens; says when one is held."""

    def __init__(self, inner: Link) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.holding = asyncio.Event()

    async def transmit(self, envelope: Envelope) -> None:
        if isinstance(envelope.payload, FileChunk):
            self.holding.set()
            await self.gate.wait()
        await self.inner.transmit(envelope)


async def test_fetches_cut_short_by_the_end_of_the_request_are_still_answered(pair: Pair) -> None:
    pair.man_ws.write_text("contract.json", "{}\n")
    pair.man_ws.write_text("ARCHITECTURE.md", "# x\n")
    link = GatedLink(pair.man._link)
    pair.man._link = link
    call = asyncio.create_task(
        pair.man.call(Address.role("backend"), Task("t1", "backend", "b"), files=pair.man_ws, timeout=10)
    )
    env = await pair.back.receive()
    assert env is not None
    fetches = [
        Envelope.new(Address.agent("man1"), fetch_command([path]), kind=Kind.REQUEST, correlation_id=env.id)
        for path in ("contract.json", "ARCHITECTURE.md")
    ]
    for fetch in fetches:
        await pair.back.send(fetch)
    await link.holding.wait()  # the first is being served, the second waits its turn
    await pair.back.reply(env, Result(output="done early"))
    assert (await call).output == "done early"
    for fetch in fetches:
        answer = await pair.back.receive()
        assert answer is not None
        assert answer.correlation_id == fetch.id
        assert isinstance(answer.payload, ErrorInfo)
        assert answer.payload.code == ErrorCode.PERMISSION_DENIED
        assert "has ended" in answer.payload.message
    assert pair.back_ws.files() == []
