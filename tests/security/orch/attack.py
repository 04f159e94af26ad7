"""Tools for the attacks: waiting on the orchestrator's state with a deadline, reading a
stream to its end, and hand-made envelopes no honest client would send."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from autogpt.iac import codec
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.envelope import ROUTER_ID, Address, Command, Envelope, Kind, Register
from orchgpt.ledger import Entry, read_entries
from orchgpt.server import Orchestrator


class Watch:
    """Wakes waiters whenever the orchestrator lets a stream or an agent go, or sweeps, so a
    test waits for a state of the orchestrator (with a deadline) instead of sleeping."""

    def __init__(self, orch: Orchestrator) -> None:
        self.board = orch.board
        self._changed = asyncio.Event()
        for name in ("leave", "close_stream", "sweep", "admit"):
            if hasattr(self.board, name):
                setattr(self.board, name, self._notifying(getattr(self.board, name)))

    def _notifying(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                self._changed.set()

        return wrapper

    async def until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


async def ended(call: Any) -> list[pb.Envelope]:
    """Read a stream to its end and return what came; the status is on ``call``."""
    seen: list[pb.Envelope] = []
    try:
        while (frame := await call.read()) is not grpc.aio.EOF:  # type: ignore[attr-defined]
            seen.extend(frame.envelopes)
    except grpc.aio.AioRpcError:
        pass
    return seen


def hello(role: str, **fields: Any) -> pb.Envelope:
    return codec.to_proto(Envelope.new(Address.agent(ROUTER_ID), Register(role, **fields), kind=Kind.CONTROL))


def request(to: pb.Address, action: str = "run", text: str = "", *, args_json: str = "", id: str = "") -> pb.Envelope:
    return pb.Envelope(
        id=id or uuid.uuid4().hex,
        recipient=to,
        kind=pb.KIND_REQUEST,
        command=pb.Command(action=action, input=text, args_json=args_json),
    )


def command(action: str, text: str = "") -> Command:
    return Command(action, text)


async def ledger_rows(orch: Orchestrator) -> list[Entry]:
    await orch.ledger.flush()
    return read_entries(Path(orch.settings.ledger), limit=1_000_000)
