"""One connected peer: its identity, its bounded outbound queue, and frame batching.

The queue is bounded by count and by bytes, so one slow consumer can never make the
orchestrator buffer without limit or stall anyone else: a full queue is reported to the
sender as ``OVERLOADED``, and a queue that stays full for ``stall_timeout`` gets its peer
dropped (:meth:`Connection.abort`). Envelopes wait as their encoded bytes; frames coalesce
whatever is queued (up to ``batch``) into one gRPC message by concatenation
(:func:`autogpt.iac.wire.take_frame`): one envelope per frame when idle, many when busy.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from autogpt.iac import wire
from autogpt.iac._gen import iac_pb2 as pb


@dataclass(frozen=True, slots=True)
class Peer:
    """Who is on the other end, as proven by the client certificate."""

    name: str
    roles: frozenset[str]
    capabilities: frozenset[str] = frozenset()  # what a Register may announce


@dataclass(frozen=True, slots=True)
class Fault:
    """Why we ended a stream: a gRPC status name (empty: end it with OK) and a message."""

    status: str
    message: str


class Connection:
    def __init__(
        self,
        agent_id: str,
        peer: Peer,
        role: str,
        *,
        queue_size: int,
        queue_bytes: int = 16 << 20,
        batch: int = 64,
        frame_bytes: int = 4 << 20,
    ) -> None:
        self.agent_id = agent_id
        self.sender_field = wire.with_sender(b"", agent_id.encode())  # appended to set the sender
        self.peer = peer
        self.role = role
        self.batch = batch
        self.frame_bytes = frame_bytes
        self.queue_size = queue_size
        self.queue_bytes = queue_bytes
        self.fault: Fault | None = None  # set when the stream must end with an error status
        self.last_seen = time.monotonic()
        self.since = time.time()  # when it joined (wall clock, for people)
        self.full_since: float | None = None  # when the queue last started refusing, while it still does
        self.closed = False
        self.handler: asyncio.Task[object] | None = None  # the stream's task, cancelled by abort()
        self.backlog: list[bytes] = []  # envelopes that came with the Register, routed first
        # Made when first needed: most peers are idle, and an empty deque or an Event (whose
        # waiters are a deque) costs some 700 bytes each, per connection.
        self._queue: deque[bytes] | None = None
        self._bytes = 0
        self._wake: asyncio.Future[None] | None = None  # the writer waits on it for work

    @property
    def queued(self) -> tuple[int, int]:
        """Envelopes and bytes waiting to be written to this peer."""
        return (len(self._queue) if self._queue else 0), self._bytes

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    def offer(self, envelope: bytes | pb.Envelope, size: int | None = None) -> bool:
        """Queue ``envelope`` (encoded, or a message of our own to encode) for this peer;
        ``False`` when it is closed or its queue is full."""
        if self.closed:
            return False
        data = envelope if type(envelope) is bytes else envelope.SerializeToString()  # type: ignore[union-attr]
        size = len(data)
        queue = self._queue
        if queue is None:
            queue = self._queue = deque()
        elif len(queue) >= self.queue_size or (queue and self._bytes + size > self.queue_bytes):
            if self.full_since is None:
                self.full_since = time.monotonic()
            return False
        queue.append(data)
        self._bytes += size
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)
        return True

    def _wake_writer(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def close(self) -> None:
        """Ask the writer to end the stream after what is already queued."""
        if not self.closed:
            self.closed = True
            self._wake_writer()

    def abort(self, status: str, message: str) -> None:
        """End the stream now with an error status: what is queued is dropped, and a writer
        blocked on a peer that does not read is cancelled."""
        if self.fault is None:
            self.fault = Fault(status, message)
        self._queue = None
        self._bytes = 0
        self.close()
        if self.handler is not None and not self.handler.done():
            self.handler.cancel()

    def stalled(self, timeout: float, now: float) -> bool:
        return self.full_since is not None and now - self.full_since > timeout

    async def frames(self) -> AsyncIterator[bytes]:
        """Encoded frames to write to the peer, until :meth:`close` and the queue is flushed."""
        loop = asyncio.get_running_loop()
        while True:
            while not (queue := self._queue):
                if self.closed:
                    return
                self._wake = loop.create_future()
                try:
                    await self._wake
                finally:
                    self._wake = None
            # Coalesce by count and by bytes, so a frame never outgrows the peer's limit.
            frame, taken = wire.take_frame(queue, self.batch, self.frame_bytes)
            self._bytes -= taken
            if (
                self.full_since is not None
                and self._bytes <= self.queue_bytes // 2
                and len(queue) <= self.queue_size // 2
            ):
                self.full_since = None
            yield frame
