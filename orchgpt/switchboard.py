"""The orchestrator's routing core: the shared :class:`Router` plus live connections.

Envelopes are routed on their header alone (:mod:`autogpt.iac.wire`) and forwarded as the
bytes they came as, so payloads are never decoded or re-encoded here; the agent that acts on
one validates it (and checks its signature). The sender is always the connection's identity.
When a :class:`~orchgpt.ledger.Ledger` is attached, every request's life (routed, accepted,
answered, refused, lost) is recorded in it; that only appends to a list here.
Nothing here blocks: a peer that cannot take more gets ``OVERLOADED``, not a stalled
orchestrator. Everything a peer can make the orchestrator hold is bounded: streams per
certificate, requests in flight per connection, bytes queued per connection, the size of
a Register (:mod:`orchgpt.admission`) and of any one answer about the registry (pages).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from google.protobuf.message import DecodeError

from autogpt.errors import AutoGPTError, ErrorCode
from autogpt.iac import wire
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.envelope import PROTOCOL_VERSION, ROUTER_ID, Address, Kind, new_id, now_us
from autogpt.iac.router import AgentRecord, Router
from autogpt.logs import get_logger
from orchgpt.actions import action_of
from orchgpt.admission import PAGE_BYTES, check_register, info, page
from orchgpt.connection import Connection, Peer
from orchgpt.ledger import Ledger

if TYPE_CHECKING:
    from orchgpt.shared_memory import SharedMemory

log = get_logger("orchgpt")

_ADDRESS = {"agent_id": Address.agent, "role": Address.role, "topic": Address.topic}
_TARGETS = {"agent_id": "agent", "role": "role", "topic": "topic"}
_KINDS = {int(k): k for k in Kind}
_HANDSHAKE = ("register", "registered")
REQUEST, REPLY = int(Kind.REQUEST), int(Kind.REPLY)
_REGISTERED_FIELD = pb.Envelope.DESCRIPTOR.fields_by_name["registered"].number
_AGENTS_FIELD = pb.Registered.DESCRIPTOR.fields_by_name["agents"].number
_parse_header = wire.Header.FromString


def router_envelope(
    recipient: str, *, kind: Kind = Kind.REPLY, correlation_id: str = "", session_id: str = "", **payload: Any
) -> pb.Envelope:
    """An envelope from the router itself to one agent (``payload``: ``result=`` or ``error=``)."""
    return pb.Envelope(
        id=uuid.uuid4().hex,
        correlation_id=correlation_id,
        session_id=session_id,
        sender=ROUTER_ID,
        recipient=pb.Address(agent_id=recipient),
        kind=int(kind),  # type: ignore[arg-type]
        timestamp_us=now_us(),
        **payload,
    )


def error_envelope(
    recipient: str, code: ErrorCode, message: str, *, kind: Kind, correlation_id: str = "", retryable: bool = False
) -> pb.Envelope:
    error = pb.Error(code=int(code), message=message, retryable=retryable)  # type: ignore[arg-type]
    return router_envelope(recipient, kind=kind, correlation_id=correlation_id, error=error)


class Switchboard:
    def __init__(
        self,
        *,
        max_envelope_bytes: int,
        queue_size: int,
        heartbeat_timeout: float = 30.0,
        ledger: Ledger | None = None,
        queue_bytes: int = 16 << 20,
        streams_per_cert: int = 16,
        pending_requests: int = 1024,
        agents_page: int = 100,
        stall_timeout: float = 30.0,
        max_frame_bytes: int = 8 << 20,
    ) -> None:
        self.router = Router()
        self.ledger = ledger
        self.stopping = False  # set while the orchestrator shuts down
        self.connections: dict[str, Connection] = {}
        self._infos: dict[str, bytes] = {}  # agent id -> its AgentInfo, encoded once when it joins
        self.streams: dict[str, int] = {}  # certificate name -> open streams, registered or not
        self.max_envelope_bytes = max_envelope_bytes
        self.queue_size = queue_size
        self.queue_bytes = queue_bytes
        self.heartbeat_timeout = heartbeat_timeout
        self.streams_per_cert = streams_per_cert
        self.pending_requests = pending_requests
        self.agents_page = agents_page
        self.stall_timeout = stall_timeout
        self.page_bytes = min(PAGE_BYTES, max_frame_bytes // 4)  # a page always fits in a frame
        # Plain counters on the hot path; metrics and the live view read them when asked.
        self.envelopes = [0] * (max(Kind) + 1)  # valid envelopes received, by kind
        self.overloaded = 0  # envelopes refused with OVERLOADED (a full outbound queue)
        self.shared_memory: SharedMemory | None = None  # memory.* requests to the router, when set

    @property
    def heartbeat_ms(self) -> int:
        """The heartbeat interval asked of every peer: three beats fit in the timeout."""
        return max(int(self.heartbeat_timeout * 1000 / 3), 1)

    # -- joining and leaving -------------------------------------------------------------

    def open_stream(self, peer: Peer) -> bool:
        """Count a new stream of ``peer``'s certificate; False when it has too many open."""
        if self.streams.get(peer.name, 0) >= self.streams_per_cert:
            return False
        self.streams[peer.name] = self.streams.get(peer.name, 0) + 1
        return True

    def close_stream(self, peer: Peer) -> None:
        left = self.streams.get(peer.name, 0) - 1
        if left > 0:
            self.streams[peer.name] = left
        else:
            self.streams.pop(peer.name, None)

    def admit(self, peer: Peer, register: pb.Register) -> Connection:
        """Check a Register against the certificate and the limits and add the peer, or raise
        AdmissionError."""
        role, record = check_register(peer.name, peer.roles, register, peer.capabilities)
        agent_id = peer.name
        while agent_id in self.connections:  # a second stream of the same certificate
            agent_id = f"{peer.name}-{uuid.uuid4().hex[:6]}"
        record = replace(record, agent_id=agent_id)
        self.router.register(record)
        self._infos[agent_id] = info(record).SerializeToString()
        conn = Connection(agent_id, peer, role, queue_size=self.queue_size, queue_bytes=self.queue_bytes)
        self.connections[agent_id] = conn
        log.info("register", agent=agent_id, role=role, cert=peer.name)
        if record.actions is None:
            log.info("actions_unchecked", agent=agent_id, role=role, reason="its register lists no actions")
        return conn

    def registered(self, conn: Connection) -> bytes:
        """The encoded Registered answer to ``conn``. Its agent page is joined from the
        encodings made when each agent joined (:func:`wire.field` appends them to the
        message), so answering a join builds no message per listed agent."""
        first, more = self._page(0, self.agents_page)
        head = pb.Envelope(
            id=new_id(),
            sender=ROUTER_ID,
            recipient=pb.Address(agent_id=conn.agent_id),
            kind=int(Kind.CONTROL),  # type: ignore[arg-type]
            timestamp_us=now_us(),
        )
        body = pb.Registered(
            protocol_version=PROTOCOL_VERSION,  # type: ignore[arg-type]
            agent_id=conn.agent_id,
            heartbeat_ms=self.heartbeat_ms,
            more_agents=more is not None,
        ).SerializeToString()
        agents = b"".join(wire.field(_AGENTS_FIELD, self._info(a)) for a in first)
        return head.SerializeToString() + wire.field(_REGISTERED_FIELD, body + agents)

    def _info(self, record: AgentRecord) -> bytes:
        encoded = self._infos.get(record.agent_id)
        return encoded if encoded is not None else info(record).SerializeToString()

    def _page(self, start: int, limit: int) -> tuple[list[AgentRecord], int | None]:
        """One page of the registry, looking at no more of it than the page needs."""
        start = max(start, 0)
        window = self.router.window(start, limit + 1)
        records, more = page(window, 0, limit, self.page_bytes, lambda record: len(self._info(record)))
        return records, None if more is None else start + more

    def leave(self, conn: Connection) -> None:
        conn.close()
        if self.connections.get(conn.agent_id) is not conn:
            return
        del self.connections[conn.agent_id]
        self._infos.pop(conn.agent_id, None)
        departure = self.router.unregister(conn.agent_id)
        orphaned = departure.orphaned if departure else ()
        if self.ledger is not None and departure is not None:
            for gone in orphaned:
                if self.stopping:
                    self.ledger.finished(gone.requester, gone.request_id, "interrupted", "orchgpt stopped")
                else:
                    self.ledger.finished(gone.requester, gone.request_id, "gone", f"{conn.agent_id} disconnected")
            for left in departure.abandoned:
                self.ledger.finished(left.requester, left.request_id, "abandoned", "the requester disconnected")
        for orphan in orphaned:
            requester = self.connections.get(orphan.requester)
            if requester is not None:
                requester.offer(
                    error_envelope(
                        orphan.requester,
                        ErrorCode.AGENT_GONE,
                        f"{conn.agent_id} disconnected before answering",
                        kind=Kind.REPLY,
                        correlation_id=orphan.request_id,
                        retryable=True,
                    )
                )
        log.info("disconnect", agent=conn.agent_id, role=conn.role, orphaned=len(orphaned))

    def sweep(self, timeout: float, now: float | None = None) -> list[Connection]:
        """Close connections silent for longer than ``timeout`` seconds, and drop those whose
        outbound queue has stayed full for longer than ``stall_timeout`` (they do not read)."""
        now = time.monotonic() if now is None else now
        stale = [c for c in self.connections.values() if now - c.last_seen > timeout]
        for conn in stale:
            log.warning("heartbeat_timeout", agent=conn.agent_id, silent_for=round(now - conn.last_seen, 1))
            conn.abort("", "heartbeat timeout")  # its stream ends with OK, even if it stopped reading
        slow = [c for c in self.connections.values() if c.stalled(self.stall_timeout, now)]
        for conn in slow:
            count, size = conn.queued
            log.warning("slow_consumer", agent=conn.agent_id, queued=count, queued_bytes=size)
            conn.abort(
                "RESOURCE_EXHAUSTED",
                f"{conn.agent_id} read too slowly: its outbound queue ({count} envelopes, {size} bytes) "
                f"stayed full for over {self.stall_timeout:g}s",
            )
        return stale + slow

    # -- routing -------------------------------------------------------------------------

    def handle_frame(self, conn: Connection, envelopes: Iterable[bytes]) -> None:
        conn.touch()
        for data in envelopes:
            self.handle(conn, data)

    def handle(self, conn: Connection, data: bytes) -> None:
        """Route one encoded envelope on its header; its bytes go out as they came, with
        the sender set from the connection (appended only when it says something else)."""
        size = len(data)
        if size > self.max_envelope_bytes:
            limit = self.max_envelope_bytes
            self._bounce(conn, _unread(data), ErrorCode.ENVELOPE_TOO_LARGE, f"envelope of {size} bytes exceeds {limit}")
            return
        try:
            env = _parse_header(data)
        except DecodeError:
            self._bounce(conn, _unread(data), ErrorCode.INVALID_ENVELOPE, "envelope is not valid protobuf")
            return
        # Each header field is read once: every read of a protobuf field builds a Python value.
        recipient = env.recipient
        target = recipient.WhichOneof("target")
        kind = env.kind
        which = env.WhichOneof("payload")
        envelope_id = env.id
        if not envelope_id or target is None or kind not in _KINDS or which is None or which in _HANDSHAKE:
            self._bounce(conn, env, ErrorCode.INVALID_ENVELOPE, self._header_problem(env))
            return
        sender = conn.agent_id  # identity comes from the connection, never from the client
        if env.sender != sender:
            data += conn.sender_field
            size = len(data)
        self.envelopes[kind] += 1
        to = getattr(recipient, target)
        if to == ROUTER_ID and target == "agent_id":
            self._control(conn, env)
            return
        if kind == REQUEST and self.router.outstanding(sender) >= self.pending_requests:
            limit = self.pending_requests
            self._bounce(
                conn, env, ErrorCode.RESOURCE_EXHAUSTED, f"{limit} requests are in flight already", retryable=True
            )
            return
        correlation_id = env.correlation_id
        session_id = env.session_id if kind == REQUEST else ""  # kept only with a request in flight
        action = _action(env) if kind == REQUEST else None
        try:
            targets = self.router.route_fields(
                kind, _TARGETS[target], to, envelope_id, sender, correlation_id, session_id, action
            )
        except AutoGPTError as exc:
            address = _ADDRESS[target](to)
            log.info("route_error", agent=conn.agent_id, recipient=str(address), error=str(exc))
            if self.ledger is not None and kind == REQUEST:
                what = _what(env)
                self.ledger.refused(
                    conn.agent_id, env.id, env.session_id, str(address), what, exc.code.name, conn.peer.name
                )
            self._bounce(conn, env, exc.code, str(exc))
            return
        for agent_id in targets:
            peer = self.connections.get(agent_id)
            if peer is None or not peer.offer(data, size):
                if kind == REQUEST:
                    self.router.forget(conn.agent_id, env.id)  # answered here: no AGENT_GONE later
                    if self.ledger is not None:
                        what = _what(env)
                        self.ledger.refused(
                            conn.agent_id, env.id, env.session_id, agent_id, what, "OVERLOADED", conn.peer.name
                        )
                self.overloaded += 1
                self._bounce(conn, env, ErrorCode.OVERLOADED, f"{agent_id} cannot take more work now", retryable=True)
            elif self.ledger is not None and (kind == REQUEST or correlation_id):
                self._record(conn, env, kind, _TARGETS[target], to, agent_id)

    def _record(self, conn: Connection, env: wire.Header, kind: int, to_kind: str, to: str, agent_id: str) -> None:
        """A routed envelope's mark in the ledger: a request opens a row, its acceptance and
        its reply move it on. Other traffic (file chunks, progress, topics) is not recorded.
        ``to_kind`` and ``to`` are the recipient's address (agent, role or topic, and name)."""
        assert self.ledger is not None
        if kind == REQUEST:
            what = _what(env)
            self.ledger.opened(conn.agent_id, env.id, env.session_id, f"{to_kind}:{to}", agent_id, what, conn.peer.name)
            return
        if to_kind != "agent" or not env.correlation_id:
            return
        which = env.WhichOneof("payload")
        if kind == REPLY:
            if which == "result":
                result = pb.Result.FromString(env.result)
                usage = (result.usage.prompt_tokens, result.usage.completion_tokens)
                state = "done" if result.ok else "failed"
                self.ledger.finished(agent_id, env.correlation_id, state, "", usage)
            elif which == "error":
                code = pb.Error.FromString(env.error).code
                self.ledger.finished(agent_id, env.correlation_id, "failed", _error_name(code))
        elif which == "status" and pb.Status.FromString(env.status).state == pb.Status.STATE_ACCEPTED:
            self.ledger.accepted(agent_id, env.correlation_id)

    @staticmethod
    def _header_problem(env: wire.Header) -> str:
        if not env.id:
            return "envelope has no id"
        if env.recipient.WhichOneof("target") is None:
            return "envelope has no recipient"
        if env.kind not in _KINDS:
            return f"unknown envelope kind {env.kind}"
        which = env.WhichOneof("payload")
        if which is None:
            return "envelope has no payload"
        if which in ("register", "registered"):
            return "register is only valid as the first envelope of a stream"
        return ""

    def _control(self, conn: Connection, env: wire.Header) -> None:
        """Envelopes for the router itself: heartbeats, and the ``agents`` listing."""
        which = env.WhichOneof("payload")
        if which == "heartbeat":
            return
        command = _command(env) if which == "command" else None
        if command is not None and command.action == "agents":
            conn.offer(self._listing(conn, env, command))
            return
        memory = self.shared_memory
        if command is not None and memory is not None and memory.handles(command.action) and env.kind == REQUEST:
            memory.submit(conn.agent_id, conn.peer.capabilities, env, command, conn.offer)
            return
        self._bounce(conn, env, ErrorCode.UNKNOWN_ACTION, "the router answers only heartbeats and 'agents'")

    def _listing(self, conn: Connection, env: wire.Header, command: pb.Command) -> pb.Envelope:
        """One page of the agent list: ``args_json`` may say ``{"start": N, "limit": L}``; the
        reply's ``next`` is where the following page starts (absent on the last page)."""
        try:
            args = json.loads(command.args_json or "{}")
            start, limit = int(args.get("start", 0)), int(args.get("limit", self.agents_page))
        except (ValueError, TypeError, AttributeError):
            start, limit = 0, self.agents_page
        records, more = self._page(start, max(1, min(limit, self.agents_page)))
        agents = [
            {
                "agent_id": a.agent_id,
                "role": a.role,
                "capabilities": sorted(a.capabilities),
                "public_key": a.public_key.hex(),
                "actions": None if a.actions is None else sorted(a.actions),
            }
            for a in records
        ]
        data: dict[str, object] = {"agents": agents, "total": len(self.router)}
        if more is not None:
            data["next"] = more
        result = pb.Result(
            ok=True,
            output="\n".join(f"{a['agent_id']:<24} {a['role']}" for a in agents),
            data_json=json.dumps(data, separators=(",", ":")),
        )
        return router_envelope(conn.agent_id, correlation_id=env.id, session_id=env.session_id, result=result)

    def _bounce(
        self, conn: Connection, env: wire.Header, code: ErrorCode, message: str, *, retryable: bool = False
    ) -> None:
        """Tell the sender its envelope went nowhere: a reply for requests, else a notice.

        A rejected reply cannot be answered (that could loop), but whoever waits for it must
        not wait in vain: the request it answered fails at once with the same error."""
        if int(env.kind) == Kind.REPLY:
            log.info("reply_dropped", agent=conn.agent_id, error=message)
            if code is ErrorCode.PERMISSION_DENIED:  # not its request to answer: tell the sender only
                conn.offer(error_envelope(conn.agent_id, code, message, kind=Kind.CONTROL, correlation_id=env.id))
                return
            requester = env.recipient.agent_id if env.recipient.WhichOneof("target") == "agent_id" else ""
            pending = self.router.pending(requester, env.correlation_id) if requester else None
            if pending is not None and pending.target == conn.agent_id:
                self.router.forget(requester, env.correlation_id)
                if self.ledger is not None:
                    self.ledger.finished(requester, env.correlation_id, "failed", f"reply refused: {code.name}")
                waiting = self.connections.get(requester)
                if waiting is not None:
                    waiting.offer(
                        error_envelope(
                            requester, code, f"the reply from {conn.agent_id} was refused: {message}",
                            kind=Kind.REPLY, correlation_id=env.correlation_id,
                        )
                    )  # fmt: skip
            return
        kind = Kind.REPLY if int(env.kind) == Kind.REQUEST else Kind.CONTROL
        conn.offer(error_envelope(conn.agent_id, code, message, kind=kind, correlation_id=env.id, retryable=retryable))


def _unread(data: bytes) -> wire.Header:
    """The little that can be said about an envelope too large or too broken to read: what
    its header says if it parses, else nothing (the bounce is then a notice, not a reply)."""
    try:
        return wire.header(data)
    except DecodeError:
        return wire.Header()


def _command(env: wire.Header) -> pb.Command | None:
    try:
        return pb.Command.FromString(env.command)
    except DecodeError:
        return None


def _action(env: wire.Header) -> str | None:
    """A request's command action, for the router to check against what the recipient
    offers; None for a task, or a command the agent will refuse as unreadable anyway."""
    return action_of(env.command) if env.WhichOneof("payload") == "command" else None


def _what(env: wire.Header) -> str:
    """A request's subject for the ledger: the command and its input, or the task."""
    which = env.WhichOneof("payload")
    try:
        if which == "command":
            command = pb.Command.FromString(env.command)
            return f"{command.action} {command.input}".strip()
        if which == "task":
            task = pb.Task.FromString(env.task)
            return f"task {task.role}: {task.description}"
    except DecodeError:
        return f"undecodable {which}"
    return which or ""


def _error_name(code: int) -> str:
    try:
        return ErrorCode(code).name
    except ValueError:
        return f"error {code}"
