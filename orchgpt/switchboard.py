"""The orchestrator's routing core: the shared :class:`Router` plus live connections.

Envelopes are routed on their header alone and forwarded as the same protobuf message,
so payloads are never re-encoded here; the agent that acts on one validates it (and checks
its signature). The sender field is always overwritten with the connection's identity.
When a :class:`~orchgpt.ledger.Ledger` is attached, every request's life (routed, accepted,
answered, refused, lost) is recorded in it; that only appends to a list here.
Nothing here blocks: a peer that cannot take more gets ``OVERLOADED``, not a stalled
orchestrator.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable

from autogpt.errors import AutoGPTError, ErrorCode
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.envelope import PROTOCOL_VERSION, ROUTER_ID, Address, Kind, now_us
from autogpt.iac.router import AgentRecord, Router
from autogpt.logs import get_logger
from orchgpt.connection import Connection, Peer
from orchgpt.ledger import Ledger

log = get_logger("orchgpt")

_TARGETS = {"agent_id": "agent", "role": "role", "topic": "topic"}


class AdmissionError(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def error_envelope(
    recipient: str, code: ErrorCode, message: str, *, kind: Kind, correlation_id: str = "", retryable: bool = False
) -> pb.Envelope:
    return pb.Envelope(
        id=uuid.uuid4().hex,
        correlation_id=correlation_id,
        sender=ROUTER_ID,
        recipient=pb.Address(agent_id=recipient),
        kind=int(kind),  # type: ignore[arg-type]
        timestamp_us=now_us(),
        error=pb.Error(code=int(code), message=message, retryable=retryable),  # type: ignore[arg-type]
    )


class Switchboard:
    def __init__(
        self, *, max_envelope_bytes: int, queue_size: int, heartbeat_timeout: float = 30.0, ledger: Ledger | None = None
    ) -> None:
        self.router = Router()
        self.ledger = ledger
        self.stopping = False  # set while the orchestrator shuts down
        self.connections: dict[str, Connection] = {}
        self.max_envelope_bytes = max_envelope_bytes
        self.queue_size = queue_size
        self.heartbeat_timeout = heartbeat_timeout

    @property
    def heartbeat_ms(self) -> int:
        """The heartbeat interval asked of every peer: three beats fit in the timeout."""
        return max(int(self.heartbeat_timeout * 1000 / 3), 1)

    # -- joining and leaving -------------------------------------------------------------

    def admit(self, peer: Peer, register: pb.Register) -> Connection:
        """Check a Register against the certificate and add the peer, or raise AdmissionError."""
        if register.protocol_version != PROTOCOL_VERSION:
            raise AdmissionError(
                ErrorCode.UNSUPPORTED_VERSION,
                f"protocol version {register.protocol_version} is not supported; this orchestrator speaks "
                f"{PROTOCOL_VERSION}",
            )
        if peer.name == ROUTER_ID:
            raise AdmissionError(ErrorCode.PERMISSION_DENIED, f"the name {ROUTER_ID!r} is reserved for the router")
        role = register.role.strip().lower()
        if not role:
            raise AdmissionError(ErrorCode.INVALID_ENVELOPE, "register names no role")
        if role not in peer.roles:
            allowed = ", ".join(sorted(peer.roles)) or "none"
            raise AdmissionError(
                ErrorCode.PERMISSION_DENIED,
                f"certificate {peer.name!r} may not register as {role!r} (allowed: {allowed})",
            )
        agent_id = peer.name if peer.name not in self.connections else f"{peer.name}-{uuid.uuid4().hex[:6]}"
        record = AgentRecord(
            agent_id,
            role,
            frozenset(register.capabilities),
            frozenset(register.topics),
            bytes(register.public_key),
            register.name or peer.name,
        )
        self.router.register(record)
        conn = Connection(agent_id, peer, role, queue_size=self.queue_size)
        self.connections[agent_id] = conn
        log.info("register", agent=agent_id, role=role, cert=peer.name)
        return conn

    def registered(self, conn: Connection) -> pb.Envelope:
        return pb.Envelope(
            id=uuid.uuid4().hex,
            sender=ROUTER_ID,
            recipient=pb.Address(agent_id=conn.agent_id),
            kind=int(Kind.CONTROL),  # type: ignore[arg-type]
            timestamp_us=now_us(),
            registered=pb.Registered(
                protocol_version=PROTOCOL_VERSION,  # type: ignore[arg-type]
                agent_id=conn.agent_id,
                agents=self._agent_infos(),
                heartbeat_ms=self.heartbeat_ms,
            ),
        )

    def leave(self, conn: Connection) -> None:
        conn.close()
        if self.connections.get(conn.agent_id) is not conn:
            return
        del self.connections[conn.agent_id]
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
        """Close connections silent for longer than ``timeout`` seconds."""
        now = time.monotonic() if now is None else now
        stale = [c for c in self.connections.values() if now - c.last_seen > timeout]
        for conn in stale:
            log.warning("heartbeat_timeout", agent=conn.agent_id, silent_for=round(now - conn.last_seen, 1))
            conn.close()
        return stale

    # -- routing -------------------------------------------------------------------------

    def handle_frame(self, conn: Connection, envelopes: Iterable[pb.Envelope]) -> None:
        conn.touch()
        for env in envelopes:
            self.handle(conn, env)

    def handle(self, conn: Connection, env: pb.Envelope) -> None:
        size = env.ByteSize()
        if size > self.max_envelope_bytes:
            limit = self.max_envelope_bytes
            self._bounce(conn, env, ErrorCode.ENVELOPE_TOO_LARGE, f"envelope of {size} bytes exceeds {limit}")
            return
        problem = self._header_problem(env)
        if problem:
            self._bounce(conn, env, ErrorCode.INVALID_ENVELOPE, problem)
            return
        env.sender = conn.agent_id  # identity comes from the connection, never from the client
        target = env.recipient.WhichOneof("target")
        if target == "agent_id" and env.recipient.agent_id == ROUTER_ID:
            self._control(conn, env)
            return
        kind = Kind(env.kind)
        recipient = Address(_TARGETS[target], getattr(env.recipient, target))  # type: ignore[arg-type]
        try:
            targets = self.router.route_header(
                kind,
                recipient,
                envelope_id=env.id,
                sender=conn.agent_id,
                correlation_id=env.correlation_id,
                session_id=env.session_id,
            )
        except AutoGPTError as exc:
            log.info("route_error", agent=conn.agent_id, recipient=str(recipient), error=str(exc))
            if self.ledger is not None and kind is Kind.REQUEST:
                self.ledger.refused(conn.agent_id, env.id, env.session_id, str(recipient), _what(env), exc.code.name)
            self._bounce(conn, env, exc.code, str(exc))
            return
        for agent_id in targets:
            peer = self.connections.get(agent_id)
            if peer is None or not peer.offer(env):
                if int(env.kind) == Kind.REQUEST:
                    self.router.forget(conn.agent_id, env.id)  # answered here: no AGENT_GONE later
                    if self.ledger is not None:
                        what = _what(env)
                        self.ledger.refused(conn.agent_id, env.id, env.session_id, agent_id, what, "OVERLOADED")
                self._bounce(conn, env, ErrorCode.OVERLOADED, f"{agent_id} cannot take more work now", retryable=True)
            elif self.ledger is not None:
                self._record(env, kind, recipient, agent_id)

    def _record(self, env: pb.Envelope, kind: Kind, recipient: Address, agent_id: str) -> None:
        """A routed envelope's mark in the ledger: a request opens a row, its acceptance and
        its reply move it on. Other traffic (file chunks, progress, topics) is not recorded."""
        assert self.ledger is not None
        if kind is Kind.REQUEST:
            self.ledger.opened(env.sender, env.id, env.session_id, str(recipient), agent_id, _what(env))
            return
        if not env.correlation_id or recipient.kind != "agent":
            return
        which = env.WhichOneof("payload")
        if kind is Kind.REPLY:
            if which == "result":
                usage = (env.result.usage.prompt_tokens, env.result.usage.completion_tokens)
                state = "done" if env.result.ok else "failed"
                self.ledger.finished(agent_id, env.correlation_id, state, "", usage)
            elif which == "error":
                self.ledger.finished(agent_id, env.correlation_id, "failed", _error_name(env.error.code))
        elif which == "status" and env.status.state == pb.Status.STATE_ACCEPTED:
            self.ledger.accepted(agent_id, env.correlation_id)

    @staticmethod
    def _header_problem(env: pb.Envelope) -> str:
        if not env.id:
            return "envelope has no id"
        if env.recipient.WhichOneof("target") is None:
            return "envelope has no recipient"
        if int(env.kind) not in (Kind.REQUEST, Kind.REPLY, Kind.EVENT, Kind.CONTROL):
            return f"unknown envelope kind {env.kind}"
        if env.WhichOneof("payload") is None:
            return "envelope has no payload"
        if env.WhichOneof("payload") in ("register", "registered"):
            return "register is only valid as the first envelope of a stream"
        return ""

    def _control(self, conn: Connection, env: pb.Envelope) -> None:
        """Envelopes for the router itself: heartbeats, and the ``agents`` listing."""
        which = env.WhichOneof("payload")
        if which == "heartbeat":
            return
        if which == "command" and env.command.action == "agents":
            agents = [
                {
                    "agent_id": a.agent_id,
                    "role": a.role,
                    "capabilities": sorted(a.capabilities),
                    "public_key": a.public_key.hex(),
                }
                for a in self.router.agents()
            ]
            reply = pb.Envelope(
                id=uuid.uuid4().hex,
                correlation_id=env.id,
                session_id=env.session_id,
                sender=ROUTER_ID,
                recipient=pb.Address(agent_id=conn.agent_id),
                kind=int(Kind.REPLY),  # type: ignore[arg-type]
                timestamp_us=now_us(),
                result=pb.Result(
                    ok=True,
                    output="\n".join(f"{a['agent_id']:<24} {a['role']}" for a in agents),
                    data_json=json.dumps({"agents": agents}, separators=(",", ":")),
                ),
            )
            conn.offer(reply)
            return
        self._bounce(conn, env, ErrorCode.UNKNOWN_ACTION, "the router answers only heartbeats and 'agents'")

    def _bounce(
        self, conn: Connection, env: pb.Envelope, code: ErrorCode, message: str, *, retryable: bool = False
    ) -> None:
        """Tell the sender its envelope went nowhere: a reply for requests, else a notice.

        A rejected reply cannot be answered (that could loop), but whoever waits for it must
        not wait in vain: the request it answered fails at once with the same error."""
        if int(env.kind) == Kind.REPLY:
            log.info("reply_dropped", agent=conn.agent_id, error=message)
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

    def _agent_infos(self) -> list[pb.AgentInfo]:
        return [
            pb.AgentInfo(agent_id=a.agent_id, role=a.role, capabilities=sorted(a.capabilities), public_key=a.public_key)
            for a in self.router.agents()
        ]


def _what(env: pb.Envelope) -> str:
    """A request's subject for the ledger: the command and its input, or the task."""
    which = env.WhichOneof("payload")
    if which == "command":
        return f"{env.command.action} {env.command.input}".strip()
    if which == "task":
        return f"task {env.task.role}: {env.task.description}"
    return which or ""


def _error_name(code: int) -> str:
    try:
        return ErrorCode(code).name
    except ValueError:
        return f"error {code}"
