"""Who is connected, and where an envelope goes. Pure and synchronous.

The Router knows nothing about transports: the in-memory hub (standalone mode, tests)
and ``orchgpt`` (gRPC) both wrap this one class, so both modes route the same way.

Rules:
* ``agent:<id>`` goes to that agent, or fails with :class:`UnknownRecipientError`;
* ``role:<name>`` goes to the next live instance of the role, round-robin, or fails with
  :class:`NoLiveAgentError`;
* ``topic:<name>`` goes to every subscriber (possibly none: publishing is not a request).

A request's command action, when the relay passes it, narrows that choice to agents that
offer it (:meth:`AgentRecord.offers`); if none does, :class:`UnknownActionError` is raised
and the request never travels to an agent that could only refuse it.

The Router also remembers which requests are in flight to which agent, so that when an
agent leaves, whoever waits on it can be told at once (:class:`Departure`). Only that
agent may answer one: a REPLY, or a status correlated to a request in flight, from anyone
else is refused with :class:`PermissionDeniedError` and changes nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from autogpt.errors import (
    InvalidEnvelopeError,
    InvalidInputError,
    NoLiveAgentError,
    PermissionDeniedError,
    UnknownActionError,
    UnknownRecipientError,
)
from autogpt.iac.envelope import Address, AgentInfo, Envelope, Kind

_REQUEST, _REPLY, _EVENT = int(Kind.REQUEST), int(Kind.REPLY), int(Kind.EVENT)
"""As plain ints: reading ``Kind.REQUEST`` costs five times a comparison, and routing
compares a kind up to six times per envelope."""


@dataclass(frozen=True, slots=True)
class AgentRecord:
    agent_id: str
    role: str
    capabilities: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    public_key: bytes = b""
    name: str = ""
    actions: frozenset[str] | None = None
    """The command actions the agent said it answers; None: it did not say, so all pass."""

    def info(self) -> AgentInfo:
        actions = tuple(sorted(self.actions or ()))
        return AgentInfo(self.agent_id, self.role, tuple(sorted(self.capabilities)), self.public_key, actions)

    def offers(self, action: str) -> bool:
        """Whether a command for ``action`` may reach this agent. Matched the way agents
        dispatch (trimmed, lowercased); an empty action is a plain prompt for the agent's
        main action, which every agent has."""
        wanted = action.strip().lower()
        return self.actions is None or not wanted or wanted in self.actions


@dataclass(frozen=True, slots=True)
class InFlight:
    request_id: str
    requester: str
    target: str
    session_id: str = ""


@dataclass(frozen=True, slots=True)
class Departure:
    record: AgentRecord
    orphaned: tuple[InFlight, ...]
    """Requests the departed agent will never answer; their requesters need an error."""
    abandoned: tuple[InFlight, ...] = ()
    """Requests the departed agent made that were still open: nobody waits for them now."""


@dataclass(slots=True)
class _RoleRing:
    members: list[str] = field(default_factory=list)
    next: int = 0

    def pick(self) -> str:
        agent_id = self.members[self.next % len(self.members)]
        self.next = (self.next + 1) % len(self.members)
        return agent_id

    def pick_where(self, fits: Callable[[str], bool]) -> str | None:
        """The next member, round-robin, for which ``fits`` holds; None when none does."""
        count = len(self.members)
        for step in range(count):
            index = (self.next + step) % count
            if fits(self.members[index]):
                self.next = (index + 1) % count
                return self.members[index]
        return None


class Router:
    def __init__(self) -> None:
        self._agents: dict[str, AgentRecord] = {}
        self._roles: dict[str, _RoleRing] = {}
        self._topics: dict[str, set[str]] = {}
        self._inflight: dict[tuple[str, str], InFlight] = {}  # (requester, request id)
        self._outstanding: dict[str, int] = {}  # requester -> how many of its requests are in flight

    # -- registration ----------------------------------------------------------------

    def register(self, record: AgentRecord) -> None:
        if not record.agent_id or not record.role:
            raise InvalidInputError("an agent needs an id and a role to register")
        if record.agent_id in self._agents:
            raise InvalidInputError(f"agent id {record.agent_id!r} is already registered")
        self._agents[record.agent_id] = record
        self._roles.setdefault(record.role, _RoleRing()).members.append(record.agent_id)
        for topic in record.topics:
            self._topics.setdefault(topic, set()).add(record.agent_id)

    def unregister(self, agent_id: str) -> Departure | None:
        record = self._agents.pop(agent_id, None)
        if record is None:
            return None
        ring = self._roles[record.role]
        ring.members.remove(agent_id)
        if not ring.members:
            del self._roles[record.role]
        for topic in list(self._topics):
            self._unsubscribe(agent_id, topic)
        orphaned = tuple(f for f in self._inflight.values() if f.target == agent_id)
        abandoned = tuple(f for f in self._inflight.values() if f.requester == agent_id and f.target != agent_id)
        for key in [k for k, f in self._inflight.items() if agent_id in (f.target, f.requester)]:
            self._drop(key)
        return Departure(record, orphaned, abandoned)

    def subscribe(self, agent_id: str, topic: str) -> None:
        self._require(agent_id)
        self._topics.setdefault(topic, set()).add(agent_id)

    def unsubscribe(self, agent_id: str, topic: str) -> None:
        self._require(agent_id)
        self._unsubscribe(agent_id, topic)

    def _unsubscribe(self, agent_id: str, topic: str) -> None:
        subscribers = self._topics.get(topic)
        if subscribers is not None:
            subscribers.discard(agent_id)
            if not subscribers:
                del self._topics[topic]

    # -- routing ---------------------------------------------------------------------

    def resolve(self, address: Address) -> tuple[str, ...]:
        """The agent ids ``address`` reaches now; advances round-robin for roles."""
        return self._resolve(address.kind, address.value)

    def _resolve(self, kind: str, value: str, action: str | None = None) -> tuple[str, ...]:
        if kind == "agent":
            record = self._agents.get(value)
            if record is None:
                raise UnknownRecipientError(f"no agent with id {value!r} is connected")
            if action is not None and not record.offers(action):
                raise UnknownActionError(f"{value} has no action {action[:64]!r}", hint=_offered(record))
            return (value,)
        if kind == "role":
            ring = self._roles.get(value)
            if ring is None:
                known = ", ".join(sorted(self._roles)) or "none"
                raise NoLiveAgentError(f"no live agent serves role {value!r}", hint=f"roles connected: {known}")
            if action is None:
                return (ring.pick(),)
            picked = ring.pick_where(lambda agent_id: self._agents[agent_id].offers(action))
            if picked is None:
                raise UnknownActionError(
                    f"no live agent of role {value!r} has the action {action[:64]!r}",
                    hint=_offered(self._agents[ring.members[0]]),
                )
            return (picked,)
        return tuple(sorted(self._topics.get(value, ())))

    def route(self, envelope: Envelope) -> tuple[str, ...]:
        """Where ``envelope`` goes; requests are remembered until their reply passes."""
        return self.route_header(
            envelope.kind,
            envelope.recipient,
            envelope_id=envelope.id,
            sender=envelope.sender,
            correlation_id=envelope.correlation_id,
            session_id=envelope.session_id,
        )

    def route_header(
        self,
        kind: Kind,
        recipient: Address,
        *,
        envelope_id: str,
        sender: str,
        correlation_id: str = "",
        session_id: str = "",
    ) -> tuple[str, ...]:
        """:meth:`route` from header fields alone, for relays that never decode payloads."""
        return self.route_fields(kind, recipient.kind, recipient.value, envelope_id, sender, correlation_id, session_id)

    def route_fields(
        self,
        kind: int,
        to_kind: str,
        to: str,
        envelope_id: str,
        sender: str,
        correlation_id: str = "",
        session_id: str = "",
        action: str | None = None,
    ) -> tuple[str, ...]:
        """:meth:`route_header` with the recipient as its kind (``agent``, ``role`` or
        ``topic``) and value: a relay routes without building an :class:`Address`.
        ``action`` is a request's command action, when the relay read it: only an agent
        offering it is picked."""
        if kind == _REQUEST and to_kind == "topic":
            raise InvalidEnvelopeError("a request needs exactly one answerer: address an agent or a role")
        if (kind == _REPLY or (kind == _EVENT and correlation_id)) and to_kind != "agent":
            raise InvalidEnvelopeError("replies and correlated events go to the agent that asked, by its id")
        if kind == _REPLY:
            pending = self._inflight.get((to, correlation_id))
            if pending is None or pending.target != sender:  # only the asked agent answers
                raise PermissionDeniedError(
                    f"{sender} may not answer request {correlation_id!r} of {to}: it is not in flight to that agent"
                )
        elif kind == _EVENT and correlation_id:
            pending = self._inflight.get((to, correlation_id))
            if pending is not None and pending.target != sender:
                raise PermissionDeniedError(f"{sender} may not report on request {correlation_id!r}")
        targets = self._resolve(to_kind, to, action if kind == _REQUEST else None)
        if kind == _REPLY:
            self._drop((to, correlation_id))
        elif kind == _REQUEST:
            key = (sender, envelope_id)
            if key not in self._inflight:
                self._outstanding[sender] = self._outstanding.get(sender, 0) + 1
            self._inflight[key] = InFlight(envelope_id, sender, targets[0], session_id)
        return targets

    def _drop(self, key: tuple[str, str]) -> None:
        if self._inflight.pop(key, None) is not None:
            left = self._outstanding[key[0]] - 1
            if left:
                self._outstanding[key[0]] = left
            else:
                del self._outstanding[key[0]]

    def pending(self, requester: str, request_id: str) -> InFlight | None:
        return self._inflight.get((requester, request_id))

    def forget(self, requester: str, request_id: str) -> None:
        """Drop a request that was answered by someone else (e.g. bounced as overloaded)."""
        self._drop((requester, request_id))

    def inflight(self) -> tuple[InFlight, ...]:
        return tuple(self._inflight.values())

    def outstanding(self, requester: str) -> int:
        """How many of ``requester``'s requests are in flight now."""
        return self._outstanding.get(requester, 0)

    # -- read API --------------------------------------------------------------------

    def get(self, agent_id: str) -> AgentRecord | None:
        return self._agents.get(agent_id)

    def agents(self) -> tuple[AgentRecord, ...]:
        return tuple(self._agents.values())

    def window(self, start: int, count: int) -> list[AgentRecord]:
        """Up to ``count`` agents from position ``start`` in joining order, without copying
        the whole registry (a join answers with the first page: that must not grow with N)."""
        return list(itertools.islice(self._agents.values(), start, start + count))

    def by_role(self, role: str) -> tuple[AgentRecord, ...]:
        ring = self._roles.get(role)
        return tuple(self._agents[a] for a in ring.members) if ring else ()

    def roles(self) -> dict[str, int]:
        return {role: len(ring.members) for role, ring in sorted(self._roles.items())}

    def subscribers(self, topic: str) -> frozenset[str]:
        return frozenset(self._topics.get(topic, ()))

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._agents

    def __len__(self) -> int:
        return len(self._agents)

    def __iter__(self) -> Iterator[AgentRecord]:
        return iter(tuple(self._agents.values()))

    def _require(self, agent_id: str) -> AgentRecord:
        record = self._agents.get(agent_id)
        if record is None:
            raise UnknownRecipientError(f"no agent with id {agent_id!r} is connected")
        return record


def _offered(record: AgentRecord, shown: int = 12) -> str:
    """A short list of what ``record`` offers, for an error's hint (a list may be long)."""
    names = sorted(record.actions or ())
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{record.agent_id} offers: {', '.join(names[:shown]) or 'nothing'}{more}"
