"""The Bus: how an agent talks to the others, whatever carries the bytes.

A :class:`Bus` is one identity's endpoint. It sends through a :class:`Link` (the only
transport-specific part: the in-memory hub or a gRPC stream) and is fed inbound
envelopes by that link through :meth:`Bus.deliver`. Replies and status updates for the
requests this endpoint made are matched here; everything else waits in the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from autogpt.errors import AgentGoneError, AutoGPTError, InvalidEnvelopeError, RequestTimeoutError, from_code
from autogpt.iac.envelope import Address, Command, Envelope, ErrorInfo, Kind, Payload, Result, State, Status, Task
from autogpt.iac.signing import Signer

StatusHandler = Callable[[Status], None]

DEFAULT_TIMEOUT = 600.0


class Link(ABC):
    """The transport seam: put one envelope on its way."""

    @abstractmethod
    async def transmit(self, envelope: Envelope) -> None: ...

    async def close(self) -> None:  # noqa: B027 - optional
        """Let go of the transport."""


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[Envelope]
    on_status: StatusHandler | None


class Bus:
    def __init__(self, agent_id: str, link: Link, *, inbox_size: int = 1024, signer: Signer | None = None) -> None:
        self.agent_id = agent_id
        self.signer = signer
        self._link = link
        self._inbox: asyncio.Queue[Envelope | None] = asyncio.Queue(inbox_size)
        self._pending: dict[str, _Pending] = {}
        self._closed = False

    # -- inbound (called by the link) --------------------------------------------------

    def deliver(self, envelope: Envelope) -> bool:
        """Hand an inbound envelope over; ``False`` when the inbox is full."""
        pending = self._pending.get(envelope.correlation_id) if envelope.correlation_id else None
        if pending is not None:
            if envelope.kind == Kind.REPLY:
                if not pending.future.done():
                    pending.future.set_result(envelope)
                return True
            if isinstance(envelope.payload, Status):
                if pending.on_status is not None:
                    pending.on_status(envelope.payload)
                return True
        try:
            self._inbox.put_nowait(envelope)
        except asyncio.QueueFull:
            return False
        return True

    def fail_pending(self, exc: AutoGPTError) -> None:
        """Fail every request still waiting here (the link went away)."""
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(exc)

    # -- outbound ----------------------------------------------------------------------

    async def send(self, envelope: Envelope) -> None:
        if self._closed:
            raise AgentGoneError(f"bus of {self.agent_id} is closed")
        envelope = envelope.with_sender(self.agent_id)
        if self.signer is not None and isinstance(envelope.payload, Command | Task):
            envelope = self.signer.sign(envelope)  # orders are signed so their target can check the author
        await self._link.transmit(envelope)

    async def request(
        self,
        to: Address,
        payload: Payload,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        on_status: StatusHandler | None = None,
        session_id: str = "",
    ) -> Envelope:
        """Send a request and wait for its reply; an error reply is raised as its typed error."""
        env = Envelope.new(to, payload, kind=Kind.REQUEST, sender=self.agent_id, session_id=session_id)
        future: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
        self._pending[env.id] = _Pending(future, on_status)
        try:
            await self.send(env)
            reply = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise RequestTimeoutError(f"no reply from {to} within {timeout:g}s") from None
        finally:
            self._pending.pop(env.id, None)
        if isinstance(reply.payload, ErrorInfo):
            raise from_code(reply.payload.code, reply.payload.message)
        return reply

    async def call(
        self,
        to: Address,
        payload: Payload,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        on_status: StatusHandler | None = None,
        session_id: str = "",
    ) -> Result:
        """:meth:`request` for the usual case where the answer is a :class:`Result`."""
        reply = await self.request(to, payload, timeout=timeout, on_status=on_status, session_id=session_id)
        if not isinstance(reply.payload, Result):
            raise InvalidEnvelopeError(f"expected a result from {to}, got {type(reply.payload).__name__}")
        return reply.payload

    async def reply(self, request: Envelope, payload: Payload) -> None:
        await self.send(request.answer(payload, sender=self.agent_id))

    async def status(self, request: Envelope, status: Status) -> None:
        await self.send(request.answer(status, kind=Kind.EVENT, sender=self.agent_id))

    async def progress(self, request: Envelope, message: str, progress: float = 0.0) -> None:
        await self.status(request, Status(State.WORKING, message, progress))

    async def publish(self, topic: str, payload: Payload, *, session_id: str = "") -> None:
        await self.send(Envelope.new(Address.topic(topic), payload, sender=self.agent_id, session_id=session_id))

    # -- inbox -------------------------------------------------------------------------

    async def receive(self) -> Envelope | None:
        """The next inbound envelope, or ``None`` once the bus is closed."""
        if self._closed and self._inbox.empty():
            return None
        return await self._inbox.get()

    async def __aiter__(self) -> AsyncIterator[Envelope]:
        while (env := await self.receive()) is not None:
            yield env

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.fail_pending(AgentGoneError(f"bus of {self.agent_id} closed"))
        with contextlib.suppress(asyncio.QueueFull):
            self._inbox.put_nowait(None)
        await self._link.close()
