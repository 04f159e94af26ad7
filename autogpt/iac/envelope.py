"""IAC envelopes as plain Python values; :mod:`autogpt.iac.codec` maps them to protobuf.

Agents, the Router and the Bus only ever see these types, never generated code.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal, TypeVar, dataclass_transform

from autogpt.errors import AutoGPTError, ErrorCode

PROTOCOL_VERSION = 1
ROUTER_ID = "router"
"""The router's own address: heartbeats and the ``agents`` listing go here."""


_R = TypeVar("_R")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[_R]) -> type[_R]:
    """A value made for each envelope: frozen to the type checker, a plain slots class at run
    time. A frozen dataclass sets each field through ``object.__setattr__``, which makes an
    Envelope cost four times as much to build (1.16 vs 0.30 us), and every envelope sent or
    received is built once or twice. Not hashable (nothing hashes them)."""
    return dataclass(slots=True)(cls)


class Kind(IntEnum):
    REQUEST = 1
    REPLY = 2
    EVENT = 3
    CONTROL = 4


class State(IntEnum):
    ACCEPTED = 1
    WORKING = 2
    WAITING = 3
    DONE = 4
    FAILED = 5


AddressKind = Literal["agent", "role", "topic"]


@dataclass(frozen=True, slots=True)
class Address:
    kind: AddressKind
    value: str

    @classmethod
    def agent(cls, agent_id: str) -> Address:
        return cls("agent", agent_id)

    @classmethod
    def role(cls, role: str) -> Address:
        return cls("role", role)

    @classmethod
    def topic(cls, topic: str) -> Address:
        return cls("topic", topic)

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@record
class Command:
    action: str
    input: str = ""
    language: str = ""
    args: dict[str, Any] = field(default_factory=dict)


@record
class Task:
    task_id: str
    role: str
    description: str
    depends_on: tuple[str, ...] = ()
    acceptance: tuple[str, ...] = ()
    input: dict[str, Any] = field(default_factory=dict)


ProgressState = Literal["pending", "running", "waiting", "done", "failed"]
PROGRESS_STATES: tuple[ProgressState, ...] = ("pending", "running", "waiting", "done", "failed")


@dataclass(frozen=True, slots=True)
class PlanItem:
    task_id: str
    role: str
    depends_on: tuple[str, ...] = ()


@record
class TaskProgress:
    """How one planned task stands, or (with ``plan``) the plan itself: what a live view of a
    build follows, so that it never has to parse the human-readable ``Status.message``."""

    task_id: str = ""
    role: str = ""
    state: ProgressState = "pending"
    step: str = ""
    attempt: int = 0  # set on the event that starts an attempt; 0 when the event does not say
    plan: tuple[PlanItem, ...] = ()


@record
class Status:
    state: State = State.WORKING
    message: str = ""
    progress: float = 0.0
    delta: str = ""
    task: TaskProgress | None = None


@record
class Artifact:
    path: str
    kind: str = "file"
    size: int = 0
    sha256: str = ""


@record
class Result:
    ok: bool = True
    output: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    artifacts: tuple[Artifact, ...] = ()
    prompt_tokens: int = 0
    completion_tokens: int = 0


@record
class ErrorInfo:
    code: ErrorCode
    message: str
    retryable: bool = False
    prompt_tokens: int = 0  # spent on the request before it failed
    completion_tokens: int = 0

    @classmethod
    def from_exception(cls, exc: AutoGPTError, prompt_tokens: int = 0, completion_tokens: int = 0) -> ErrorInfo:
        return cls(exc.code, str(exc), exc.retryable, prompt_tokens, completion_tokens)


@record
class Heartbeat:
    seq: int = 0


@dataclass(frozen=True, slots=True)
class Register:
    role: str
    agent_id: str = ""
    capabilities: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    public_key: bytes = b""
    name: str = ""
    protocol_version: int = PROTOCOL_VERSION
    actions: tuple[str, ...] = ()  # the command actions answered; empty: not said, nothing is checked


@dataclass(frozen=True, slots=True)
class AgentInfo:
    agent_id: str
    role: str
    capabilities: tuple[str, ...] = ()
    public_key: bytes = b""
    actions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Registered:
    agent_id: str
    agents: tuple[AgentInfo, ...] = ()
    protocol_version: int = PROTOCOL_VERSION
    heartbeat_ms: int = 0  # how often the orchestrator wants a heartbeat (0: the peer decides)
    more_agents: bool = False  # ``agents`` is the first page only; the router's listing has the rest


@record
class FileChunk:
    transfer_id: str
    path: str
    offset: int
    data: bytes
    last: bool = False
    total_size: int = 0
    sha256: str = ""


Payload = Command | Task | Status | Result | ErrorInfo | Heartbeat | Register | Registered | FileChunk


def new_id() -> str:
    """128 random bits as 32 hex digits (what ``uuid4().hex`` gives, at a fifth of the cost)."""
    return os.urandom(16).hex()


def now_us() -> int:
    return time.time_ns() // 1000


@record
class Envelope:
    id: str
    sender: str
    recipient: Address
    kind: Kind
    payload: Payload
    correlation_id: str = ""
    session_id: str = ""
    timestamp_us: int = 0
    signature: bytes = b""
    wire: bytes = field(default=b"", compare=False, repr=False)
    """The encoding as received (set by the codec): the canonical bytes a signature covers
    are made from it, so a signature made by any implementation is checked against exactly
    what it signed, not a re-encoding of our values."""

    @classmethod
    def new(
        cls,
        recipient: Address,
        payload: Payload,
        *,
        kind: Kind = Kind.EVENT,
        sender: str = "",
        correlation_id: str = "",
        session_id: str = "",
    ) -> Envelope:
        # Positional: half the cost of keywords, on every envelope made.
        return cls(new_id(), sender, recipient, kind, payload, correlation_id, session_id, now_us())

    def answer(self, payload: Payload, *, kind: Kind = Kind.REPLY, sender: str = "") -> Envelope:
        """An envelope back to this one's sender, correlated to it."""
        return Envelope.new(
            Address.agent(self.sender),
            payload,
            kind=kind,
            sender=sender,
            correlation_id=self.id,
            session_id=self.session_id,
        )

    def with_sender(self, sender: str) -> Envelope:
        # The canonical bytes leave out the sender, so ``wire`` stays valid.
        if self.sender == sender:
            return self
        return Envelope(
            self.id, sender, self.recipient, self.kind, self.payload, self.correlation_id, self.session_id,
            self.timestamp_us, self.signature, self.wire,
        )  # fmt: skip  # not dataclasses.replace: this runs for every envelope sent
