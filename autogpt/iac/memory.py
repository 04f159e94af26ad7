"""The in-memory hub: a :class:`Router` and direct delivery, for standalone mode and tests.

It follows the same rules as ``orchgpt``: the sender is the endpoint's identity, routing
errors come back to the sender as typed error envelopes, a full inbox is answered with
``OVERLOADED``, and requests orphaned by a departing agent fail with ``AGENT_GONE``.
"""

from __future__ import annotations

import itertools

from autogpt.errors import AgentGoneError, AutoGPTError, ErrorCode
from autogpt.iac.bus import Bus, Link
from autogpt.iac.envelope import ROUTER_ID, Address, Envelope, ErrorInfo, Kind
from autogpt.iac.router import AgentRecord, Router
from autogpt.logs import get_logger

log = get_logger(__name__)


class _HubLink(Link):
    def __init__(self, hub: InMemoryHub, agent_id: str) -> None:
        self._hub = hub
        self._agent_id = agent_id

    async def transmit(self, envelope: Envelope) -> None:
        self._hub.dispatch(envelope.with_sender(self._agent_id))

    async def close(self) -> None:
        self._hub.disconnect(self._agent_id)


class InMemoryHub:
    def __init__(self, *, inbox_size: int = 1024) -> None:
        self.router = Router()
        self._buses: dict[str, Bus] = {}
        self._inbox_size = inbox_size
        self._ids = itertools.count(1)

    def connect(
        self,
        role: str,
        *,
        agent_id: str | None = None,
        capabilities: tuple[str, ...] = (),
        topics: tuple[str, ...] = (),
        name: str = "",
        public_key: bytes = b"",
    ) -> Bus:
        """Register an identity and return its Bus."""
        agent_id = agent_id or f"{role}-{next(self._ids)}"
        self.router.register(AgentRecord(agent_id, role, frozenset(capabilities), frozenset(topics), public_key, name))
        bus = Bus(agent_id, _HubLink(self, agent_id), inbox_size=self._inbox_size)
        self._buses[agent_id] = bus
        return bus

    def disconnect(self, agent_id: str) -> None:
        departure = self.router.unregister(agent_id)
        bus = self._buses.pop(agent_id, None)
        if bus is not None:
            bus.fail_pending(AgentGoneError(f"{agent_id} disconnected"))
        if departure is None:
            return
        for orphan in departure.orphaned:
            requester = self._buses.get(orphan.requester)
            if requester is not None:
                requester.deliver(
                    Envelope.new(
                        Address.agent(orphan.requester),
                        ErrorInfo(ErrorCode.AGENT_GONE, f"{agent_id} left before answering", True),
                        kind=Kind.REPLY,
                        sender=ROUTER_ID,
                        correlation_id=orphan.request_id,
                        session_id=orphan.session_id,
                    )
                )

    def dispatch(self, envelope: Envelope) -> None:
        try:
            targets = self.router.route(envelope)
        except AutoGPTError as exc:
            self._bounce(envelope, ErrorInfo.from_exception(exc))
            return
        for target in targets:
            bus = self._buses.get(target)
            if bus is None or not bus.deliver(envelope):
                self._bounce(envelope, ErrorInfo(ErrorCode.OVERLOADED, f"{target} cannot take more work", True))

    def _bounce(self, envelope: Envelope, error: ErrorInfo) -> None:
        """Tell the sender its envelope went nowhere: a reply for requests, else a notice."""
        log.warning("route_error", envelope=envelope.id, recipient=str(envelope.recipient), error=error.message)
        sender = self._buses.get(envelope.sender)
        if sender is None:
            return
        kind = Kind.REPLY if envelope.kind == Kind.REQUEST else Kind.CONTROL
        if envelope.kind == Kind.REPLY:
            return  # a reply nobody can take is dropped: answering it would loop
        sender.deliver(envelope.answer(error, kind=kind, sender=ROUTER_ID))
