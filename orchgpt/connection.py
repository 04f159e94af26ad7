"""One connected peer: its identity, its bounded outbound queue, and frame batching.

The queue is bounded so one slow consumer can never make the orchestrator buffer
without limit or stall anyone else: a full queue is reported to the sender as
``OVERLOADED``. Frames coalesce whatever is queued (up to ``batch``) into one gRPC
message: one envelope per frame when idle, many when busy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from autogpt.iac._gen import iac_pb2 as pb

_CLOSE = None


@dataclass(frozen=True, slots=True)
class Peer:
    """Who is on the other end, as proven by the client certificate."""

    name: str
    roles: frozenset[str]


class Connection:
    def __init__(
        self, agent_id: str, peer: Peer, role: str, *, queue_size: int, batch: int = 64, frame_bytes: int = 4 << 20
    ) -> None:
        self.agent_id = agent_id
        self.peer = peer
        self.role = role
        self.batch = batch
        self.frame_bytes = frame_bytes
        self.fault = ""  # why the stream must end with an error status, if it must
        self.last_seen = time.monotonic()
        self.closed = asyncio.Event()
        self._queue: asyncio.Queue[pb.Envelope | None] = asyncio.Queue(queue_size)

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    def offer(self, envelope: pb.Envelope) -> bool:
        """Queue ``envelope`` for this peer; ``False`` when its queue is full."""
        if self.closed.is_set():
            return False
        try:
            self._queue.put_nowait(envelope)
        except asyncio.QueueFull:
            return False
        return True

    def close(self) -> None:
        """Ask the writer to end the stream after what is already queued."""
        if not self.closed.is_set():
            self.closed.set()
            try:
                self._queue.put_nowait(_CLOSE)
            except asyncio.QueueFull:
                # Make room for the close marker: the peer is going away anyway.
                self._queue.get_nowait()
                self._queue.put_nowait(_CLOSE)

    async def frames(self) -> AsyncIterator[pb.Frame]:
        """Frames to write to the peer, until :meth:`close`."""
        while True:
            first = await self._queue.get()
            if first is _CLOSE:
                return
            frame = pb.Frame()
            frame.envelopes.append(first)
            size = first.ByteSize()
            done = False
            # Coalesce by count and by bytes, so a frame never outgrows the peer's limit.
            while len(frame.envelopes) < self.batch and not self._queue.empty():
                nxt = self._queue._queue[0]  # type: ignore[attr-defined]  # peek: deque of the queue
                if nxt is not _CLOSE and size + nxt.ByteSize() > self.frame_bytes:
                    break
                more = self._queue.get_nowait()
                if more is _CLOSE:
                    done = True
                    break
                size += more.ByteSize()
                frame.envelopes.append(more)
            yield frame
            if done:
                return
