"""The Bus: how an agent talks to the others, whatever carries the bytes.

A :class:`Bus` is one identity's endpoint. It sends through a :class:`Link` (the only
transport-specific part: the in-memory hub or a gRPC stream) and is fed inbound
envelopes by that link through :meth:`Bus.deliver`. Replies and status updates for the
requests this endpoint made are matched here; everything else waits in the inbox.

Files follow work between workspaces here too (:mod:`autogpt.iac.transfer`): a request
made with ``files=`` offers the requester's project files, accepts FileChunk events for
it from the peer that took it, and answers that peer's fetches of offered files while it
waits. Chunks for anything else are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from autogpt.errors import (
    AgentGoneError,
    AutoGPTError,
    ErrorCode,
    InvalidEnvelopeError,
    PermissionDeniedError,
    from_code,
)
from autogpt.iac import transfer
from autogpt.iac.envelope import (
    ROUTER_ID,
    Address,
    Command,
    Envelope,
    ErrorInfo,
    FileChunk,
    Kind,
    Payload,
    Result,
    State,
    Status,
    Task,
)
from autogpt.iac.signing import Signer
from autogpt.iac.transfer import FileStore, Offer, Receiver
from autogpt.iac.waits import Deadlines, Inbox
from autogpt.logs import get_logger

log = get_logger(__name__)

_REPLY = int(Kind.REPLY)  # a plain int: reading the enum's member costs five times a comparison

StatusHandler = Callable[[Status], None]

DEFAULT_TIMEOUT = 600.0
FETCH_TIMEOUT = 300.0


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
    peer: str = ""  # who answers: the agent addressed, or the first to answer a role
    receiver: Receiver | None = None  # files the peer sends land here
    offer: Offer | None = None  # files the peer may fetch
    store: FileStore | None = None
    fetches: asyncio.Queue[Envelope] | None = None  # the peer's fetches of offered files, if any
    serving: Envelope | None = None  # the fetch being answered now
    error: AutoGPTError | None = None  # the first broken transfer, raised with the reply

    def __post_init__(self) -> None:
        if self.offer is not None:  # most requests offer nothing: no queue for them
            self.fetches = asyncio.Queue(16)


class Bus:
    def __init__(self, agent_id: str, link: Link, *, inbox_size: int = 1024, signer: Signer | None = None) -> None:
        self.agent_id = agent_id
        self.signer = signer
        self._link = link
        self._inbox: Inbox[Envelope] = Inbox(inbox_size)
        self._deadlines = Deadlines()
        self._pending: dict[str, _Pending] = {}
        self._closed = False

    # -- inbound (called by the link) --------------------------------------------------

    def deliver(self, envelope: Envelope) -> bool:
        """Hand an inbound envelope over; ``False`` when the inbox is full."""
        correlated = envelope.correlation_id and envelope.recipient.kind == "agent"  # never via a role or topic
        pending = self._pending.get(envelope.correlation_id) if correlated else None
        if pending is not None:
            if not pending.peer and envelope.sender not in ("", ROUTER_ID):
                pending.peer = envelope.sender
            if envelope.kind == _REPLY:
                if not pending.future.done():
                    pending.future.set_result(envelope)
                return True
            if isinstance(envelope.payload, Status):
                if pending.on_status is not None:
                    pending.on_status(envelope.payload)
                return True
            if isinstance(envelope.payload, FileChunk):
                self._take_chunk(pending, envelope, envelope.payload)
                return True
            fetches = pending.fetches
            if fetches is not None and envelope.sender == pending.peer and transfer.is_fetch(envelope):
                try:
                    fetches.put_nowait(envelope)
                except asyncio.QueueFull:
                    log.warning("fetch_dropped", peer=envelope.sender, request=envelope.correlation_id)
                return True
        if isinstance(envelope.payload, FileChunk):  # files only ever come for our own requests
            log.warning("chunk_dropped", sender=envelope.sender, correlation=envelope.correlation_id)
            return True
        return self._inbox.put(envelope)

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
        files: FileStore | None = None,
    ) -> Envelope:
        """Send a request and wait for its reply; an error reply is raised as its typed error.

        With ``files``, a Task or Command offers that workspace's project files to whoever
        takes it, and the files it sends back are in ``files`` when this returns."""
        offer = None
        if files is not None and isinstance(payload, Task | Command):
            offer = Offer(files.identity, await asyncio.to_thread(files.manifest))
            payload = transfer.with_offer(payload, offer)
        env = Envelope.new(to, payload, kind=Kind.REQUEST, sender=self.agent_id, session_id=session_id)
        receiver = Receiver(files) if files is not None else None
        peer = to.value if to.kind == "agent" else ""
        return await self._exchange(env, _Pending(self._future(), on_status, peer, receiver, offer, files), timeout)

    def _future(self) -> asyncio.Future[Envelope]:
        return asyncio.get_running_loop().create_future()

    async def _exchange(self, env: Envelope, pending: _Pending, timeout: float | None) -> Envelope:
        self._pending[env.id] = pending
        server = asyncio.create_task(self._serve_fetches(pending)) if pending.offer is not None else None
        future = pending.future
        due = None
        try:
            if timeout is not None:  # the time runs from now: a send that waits for room counts
                due = self._deadlines.add(timeout, future, env.recipient)
            await self.send(env)
            reply = await future
        finally:
            self._pending.pop(env.id, None)
            self._deadlines.discard(due, future)
            if future.done() and not future.cancelled():
                future.exception()  # seen: a send that failed after the time ran out leaves no warning
            if server is not None:
                server.cancel()
                await asyncio.wait({server})
                await self._refuse_fetches(pending)
        if isinstance(reply.payload, ErrorInfo):
            error = from_code(reply.payload.code, reply.payload.message)
            error.spent = (reply.payload.prompt_tokens, reply.payload.completion_tokens)
            raise error
        if pending.receiver is not None and pending.error is None:
            try:
                pending.receiver.finish()
            except AutoGPTError as exc:
                pending.error = exc
        if pending.error is not None:
            raise pending.error
        return reply

    async def call(
        self,
        to: Address,
        payload: Payload,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        on_status: StatusHandler | None = None,
        session_id: str = "",
        files: FileStore | None = None,
    ) -> Result:
        """:meth:`request` for the usual case where the answer is a :class:`Result`."""
        reply = await self.request(
            to, payload, timeout=timeout, on_status=on_status, session_id=session_id, files=files
        )
        if not isinstance(reply.payload, Result):
            raise InvalidEnvelopeError(f"expected a result from {to}, got {type(reply.payload).__name__}")
        return reply.payload

    async def list_agents(self, *, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Every agent the router lists, following its pages (``next``) to the end."""
        agents: list[dict[str, Any]] = []
        start: int | None = 0
        while start is not None:
            listing = await self.call(
                Address.agent(ROUTER_ID), Command("agents", args={"start": start}), timeout=timeout
            )
            page = listing.data.get("agents", [])
            agents += [a for a in page if isinstance(a, dict)]
            following = listing.data.get("next")
            start = following if isinstance(following, int) and following > start and page else None
        return agents

    # -- files -------------------------------------------------------------------------

    async def send_files(
        self, request: Envelope, store: FileStore, paths: list[str], *, skip: dict[str, str] | None = None
    ) -> list[str]:
        """Send files from ``store`` to ``request``'s sender as FileChunk events correlated to it.

        A path whose content already has the sha256 given in ``skip`` is not sent; nor is one
        that may not travel (see :func:`~autogpt.iac.transfer.shareable`), nor one whose content
        looks like it holds a secret. Returns what was sent."""
        sent = []
        for path in dict.fromkeys(paths):
            if not transfer.shareable(path):
                log.info("file_not_sent", path=path, reason="not a project file")
                continue
            data = store.read_bytes(path)
            if skip and skip.get(path) == hashlib.sha256(data).hexdigest():
                continue
            if transfer.looks_secret(data):
                log.warning("file_not_sent", path=path, reason="it looks like it holds a secret")
                continue
            for chunk in transfer.split(path, data):
                await self.send(request.answer(chunk, kind=Kind.EVENT, sender=self.agent_id))
            sent.append(path)
        return sent

    async def fetch(
        self, request: Envelope, paths: list[str], store: FileStore, *, timeout: float | None = FETCH_TIMEOUT
    ) -> list[str]:
        """Ask ``request``'s sender for files it offered with it; they are in ``store`` on return."""
        env = Envelope.new(
            Address.agent(request.sender),
            transfer.fetch_command(paths),
            kind=Kind.REQUEST,
            sender=self.agent_id,
            correlation_id=request.id,
            session_id=request.session_id,
        )
        receiver = Receiver(store, agent=request.sender)
        await self._exchange(env, _Pending(self._future(), None, request.sender, receiver), timeout)
        return receiver.written

    def _take_chunk(self, pending: _Pending, envelope: Envelope, chunk: FileChunk) -> None:
        if pending.receiver is None or envelope.sender != pending.peer:
            log.warning("chunk_dropped", sender=envelope.sender, correlation=envelope.correlation_id)
            return
        pending.receiver.agent = envelope.sender
        try:
            pending.receiver.accept(chunk)
        except AutoGPTError as exc:  # the transfer is dropped; the request fails once answered
            log.warning("chunk_refused", sender=envelope.sender, path=chunk.path, error=str(exc))
            pending.error = pending.error or exc

    async def _serve_fetches(self, pending: _Pending) -> None:
        """Answer the peer's fetches of offered files for as long as the request waits."""
        offer, store, fetches = pending.offer, pending.store, pending.fetches
        assert offer is not None
        assert store is not None
        assert fetches is not None
        while True:
            request = pending.serving = await fetches.get()
            try:
                assert isinstance(request.payload, Command)
                paths = transfer.fetched_paths(request.payload)
                refused = [p for p in paths if p not in offer.files]
                if refused:
                    raise PermissionDeniedError(f"not offered: {', '.join(repr(p) for p in refused[:5])}")
                sent = await self.send_files(request, store, paths)
                await self.reply(request, Result(output=f"{len(sent)} file(s) sent", data={"files": sent}))
            except AutoGPTError as exc:
                with contextlib.suppress(AutoGPTError):
                    await self.reply(request, ErrorInfo.from_exception(exc))
            pending.serving = None

    async def _refuse_fetches(self, pending: _Pending) -> None:
        """Fetches cut short or still queued when the request ended get an answer all the same."""
        cut = [pending.serving] if pending.serving is not None else []
        while pending.fetches is not None and not pending.fetches.empty():
            cut.append(pending.fetches.get_nowait())
        for request in cut:
            with contextlib.suppress(AutoGPTError):
                await self.reply(request, ErrorInfo(ErrorCode.PERMISSION_DENIED, "the offering request has ended"))

    # -- answers -------------------------------------------------------------------------

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
        self._inbox.close()
        self._deadlines.clear()
        await self._link.close()
