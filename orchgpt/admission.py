"""What a peer may register, and how much of the registry one answer carries.

Everything a Register holds is kept for as long as the peer stays and is repeated to
every peer that asks who is connected, so each field is bounded here, before anything
is stored: one oversized Register must not make every later answer too big to send.
The agent list is handed out in pages (:func:`page`), never whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from autogpt.errors import ErrorCode, IACError
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.envelope import PROTOCOL_VERSION, ROUTER_ID
from autogpt.iac.router import AgentRecord

MAX_ROLE = 32
MAX_NAME = 128
MAX_CAPABILITIES = 64
MAX_CAPABILITY = 64
MAX_TOPICS = 64
MAX_TOPIC = 128
MAX_ACTIONS = 256
MAX_ACTION = 64
KEY_BYTES = 32
PAGE_BYTES = 256 << 10
"""A page of the agent list stops growing at this size, whatever the page length."""

_PRINTABLE = re.compile(r"^[\x21-\x7e]*$")


class AdmissionError(IACError):
    """A Register refused: the stream gets an Error envelope with ``code`` and ends."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message, code=code)


def _strings(values: Sequence[str], what: str, count: int, length: int) -> frozenset[str]:
    if len(values) > count:
        raise AdmissionError(ErrorCode.INVALID_ENVELOPE, f"register lists {len(values)} {what}; at most {count}")
    for value in values:
        if not value or len(value) > length or not _PRINTABLE.match(value):
            raise AdmissionError(
                ErrorCode.INVALID_ENVELOPE,
                f"register {what} must be 1 to {length} printable ASCII characters without spaces",
            )
    return frozenset(values)


def _few(values: frozenset[str], shown: int = 5) -> str:
    names = sorted(values)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return (", ".join(names[:shown]) or "none") + more


def check_register(
    name: str, roles: frozenset[str], register: pb.Register, granted: frozenset[str] | None = None
) -> tuple[str, AgentRecord]:
    """The role asked for and the record to keep (with an empty id), or AdmissionError.

    ``granted`` is what the certificate lets the peer announce; a Register claiming any
    other capability is refused (None: not checked, for callers with no certificate)."""
    if register.protocol_version != PROTOCOL_VERSION:
        raise AdmissionError(
            ErrorCode.UNSUPPORTED_VERSION,
            f"protocol version {register.protocol_version} is not supported; this orchestrator speaks "
            f"{PROTOCOL_VERSION}",
        )
    if name == ROUTER_ID:
        raise AdmissionError(ErrorCode.PERMISSION_DENIED, f"the name {ROUTER_ID!r} is reserved for the router")
    role = register.role.strip().lower()[: MAX_ROLE + 1]
    if not role:
        raise AdmissionError(ErrorCode.INVALID_ENVELOPE, "register names no role")
    if role not in roles:
        allowed = ", ".join(sorted(roles)) or "none"
        raise AdmissionError(
            ErrorCode.PERMISSION_DENIED,
            f"certificate {name!r} may not register as {role[:MAX_ROLE]!r} (allowed: {allowed})",
        )
    capabilities = _strings(register.capabilities, "capabilities", MAX_CAPABILITIES, MAX_CAPABILITY)
    if granted is not None and not capabilities <= granted:
        raise AdmissionError(
            ErrorCode.PERMISSION_DENIED,
            f"certificate {name!r} does not grant the capabilities {_few(capabilities - granted)} "
            f"(granted: {_few(granted)})",
        )
    topics = _strings(register.topics, "topics", MAX_TOPICS, MAX_TOPIC)
    key = bytes(register.public_key)
    if key and len(key) != KEY_BYTES:
        raise AdmissionError(
            ErrorCode.INVALID_ENVELOPE, f"register public_key must be {KEY_BYTES} bytes (Ed25519), not {len(key)}"
        )
    if len(register.name) > MAX_NAME:
        raise AdmissionError(ErrorCode.INVALID_ENVELOPE, f"register name is over {MAX_NAME} characters")
    # None, not empty, when none are listed: a peer that does not say what it answers is not checked
    actions = _strings(register.actions, "actions", MAX_ACTIONS, MAX_ACTION) if register.actions else None
    return role, AgentRecord("", role, capabilities, topics, key, register.name or name, actions)


def info(record: AgentRecord) -> pb.AgentInfo:
    return pb.AgentInfo(
        agent_id=record.agent_id,
        role=record.role,
        capabilities=sorted(record.capabilities),
        public_key=record.public_key,
        actions=sorted(record.actions or ()),
    )


def info_size(record: AgentRecord) -> int:
    return info(record).ByteSize()


def page(
    records: Sequence[AgentRecord],
    start: int,
    limit: int,
    max_bytes: int = PAGE_BYTES,
    size_of: Callable[[AgentRecord], int] = info_size,
) -> tuple[list[AgentRecord], int | None]:
    """Up to ``limit`` records from index ``start`` (and about ``max_bytes`` at most), and the
    index the next page starts at, or None when this page reaches the end. ``size_of`` is a
    record's encoded size (a caller holding the encodings passes their lengths)."""
    taken: list[AgentRecord] = []
    size = 0
    index = max(start, 0)
    while index < len(records) and len(taken) < limit:
        size += size_of(records[index])
        if taken and size > max_bytes:
            break
        taken.append(records[index])
        index += 1
    return taken, (index if index < len(records) else None)
