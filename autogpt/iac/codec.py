"""All protobuf <-> Python conversion for IAC, and the canonical bytes that get signed.

Decoding never trusts its input: anything malformed becomes an
:class:`~autogpt.errors.InvalidEnvelopeError` with a reason, never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from google.protobuf.message import DecodeError

from autogpt.errors import ErrorCode, InvalidEnvelopeError
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.envelope import (
    Address,
    AgentInfo,
    Artifact,
    Command,
    Envelope,
    ErrorInfo,
    FileChunk,
    Heartbeat,
    Kind,
    Payload,
    PlanItem,
    ProgressState,
    Register,
    Registered,
    Result,
    State,
    Status,
    Task,
    TaskProgress,
)


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True) if obj else ""


def _load(text: str, what: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidEnvelopeError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidEnvelopeError(f"{what} must be a JSON object")
    return value


# -- payloads -------------------------------------------------------------------------


_PROGRESS_TO_PROTO: dict[ProgressState, int] = {
    "pending": pb.TaskProgress.STATE_PENDING,
    "running": pb.TaskProgress.STATE_RUNNING,
    "waiting": pb.TaskProgress.STATE_WAITING,
    "done": pb.TaskProgress.STATE_DONE,
    "failed": pb.TaskProgress.STATE_FAILED,
}
_PROGRESS_FROM_PROTO = {number: name for name, number in _PROGRESS_TO_PROTO.items()}


def _task_progress_to_proto(progress: TaskProgress) -> pb.TaskProgress:
    return pb.TaskProgress(
        task_id=progress.task_id,
        role=progress.role,
        state=_PROGRESS_TO_PROTO[progress.state],  # type: ignore[arg-type]
        step=progress.step,
        attempt=progress.attempt,
        plan=[pb.PlanItem(task_id=p.task_id, role=p.role, depends_on=p.depends_on) for p in progress.plan],
    )


def _task_progress_from_proto(status: pb.Status) -> TaskProgress | None:
    """The status's task part, or None when it has none or one in a state we do not know
    (a newer peer's): the part is optional, and ``message`` still says the same in words."""
    if not status.HasField("task"):
        return None
    t = status.task
    state = _PROGRESS_FROM_PROTO.get(t.state)
    if state is None:
        return None
    plan = tuple(PlanItem(p.task_id, p.role, tuple(p.depends_on)) for p in t.plan)
    return TaskProgress(t.task_id, t.role, state, t.step, t.attempt, plan)


def _payload_to_proto(payload: Payload, out: pb.Envelope) -> None:
    match payload:
        case Command():
            command = out.command
            command.SetInParent()
            command.action = payload.action
            command.input = payload.input
            command.language = payload.language
            command.args_json = _dump(payload.args)
        case Task():
            out.task.CopyFrom(
                pb.Task(
                    task_id=payload.task_id,
                    role=payload.role,
                    description=payload.description,
                    depends_on=payload.depends_on,
                    acceptance=payload.acceptance,
                    input_json=_dump(payload.input),
                )
            )
        case Status():
            status = out.status
            status.SetInParent()
            status.state = payload.state.value  # type: ignore[assignment]
            status.message = payload.message
            status.progress = payload.progress
            status.delta = payload.delta
            if payload.task is not None:
                status.task.CopyFrom(_task_progress_to_proto(payload.task))
        case Result():
            result = out.result  # filled in place: no message built and copied in
            result.ok = payload.ok
            result.output = payload.output
            if payload.data:
                result.data_json = _dump(payload.data)
            if payload.artifacts:
                result.artifacts.extend(
                    pb.Artifact(path=a.path, kind=a.kind, size=a.size, sha256=a.sha256) for a in payload.artifacts
                )
            usage = result.usage
            usage.prompt_tokens = payload.prompt_tokens
            usage.completion_tokens = payload.completion_tokens
            usage.SetInParent()
        case ErrorInfo():
            out.error.CopyFrom(
                pb.Error(
                    code=int(payload.code),  # type: ignore[arg-type]
                    message=payload.message,
                    retryable=payload.retryable,
                    usage=pb.Usage(prompt_tokens=payload.prompt_tokens, completion_tokens=payload.completion_tokens),
                )
            )
        case Heartbeat():
            out.heartbeat.seq = payload.seq
            out.heartbeat.SetInParent()
        case Register():
            out.register.CopyFrom(
                pb.Register(
                    protocol_version=payload.protocol_version,  # type: ignore[arg-type]
                    agent_id=payload.agent_id,
                    role=payload.role,
                    capabilities=payload.capabilities,
                    topics=payload.topics,
                    public_key=payload.public_key,
                    name=payload.name,
                    actions=payload.actions,
                )
            )
        case Registered():
            out.registered.CopyFrom(
                pb.Registered(
                    protocol_version=payload.protocol_version,  # type: ignore[arg-type]
                    agent_id=payload.agent_id,
                    heartbeat_ms=payload.heartbeat_ms,
                    more_agents=payload.more_agents,
                    agents=[
                        pb.AgentInfo(
                            agent_id=a.agent_id,
                            role=a.role,
                            capabilities=a.capabilities,
                            public_key=a.public_key,
                            actions=a.actions,
                        )
                        for a in payload.agents
                    ],
                )
            )
        case FileChunk():
            out.file_chunk.CopyFrom(
                pb.FileChunk(
                    transfer_id=payload.transfer_id,
                    path=payload.path,
                    offset=payload.offset,
                    data=payload.data,
                    last=payload.last,
                    total_size=payload.total_size,
                    sha256=payload.sha256,
                )
            )


def _payload_from_proto(msg: pb.Envelope) -> Payload:
    which = msg.WhichOneof("payload")
    if which == "heartbeat":
        return Heartbeat(msg.heartbeat.seq)
    if which == "command":
        c = msg.command
        return Command(c.action, c.input, c.language, _load(c.args_json, "command.args_json"))
    if which == "task":
        t = msg.task
        return Task(
            task_id=t.task_id,
            role=t.role,
            description=t.description,
            depends_on=tuple(t.depends_on),
            acceptance=tuple(t.acceptance),
            input=_load(t.input_json, "task.input_json"),
        )
    if which == "status":
        s = msg.status
        try:
            state = State(s.state)
        except ValueError:
            raise InvalidEnvelopeError(f"unknown status state {s.state}") from None
        return Status(state, s.message, s.progress, s.delta, _task_progress_from_proto(s))
    if which == "result":
        r = msg.result
        usage = r.usage
        return Result(
            r.ok,
            r.output,
            _load(r.data_json, "result.data_json"),
            tuple(Artifact(a.path, a.kind, a.size, a.sha256) for a in r.artifacts) if r.artifacts else (),
            usage.prompt_tokens,
            usage.completion_tokens,
        )
    if which == "error":
        e = msg.error
        try:
            code = ErrorCode(e.code)
        except ValueError:
            code = ErrorCode.UNSPECIFIED
        return ErrorInfo(code, e.message, e.retryable, e.usage.prompt_tokens, e.usage.completion_tokens)
    if which == "register":
        g = msg.register
        return Register(
            role=g.role,
            agent_id=g.agent_id,
            capabilities=tuple(g.capabilities),
            topics=tuple(g.topics),
            public_key=g.public_key,
            name=g.name,
            protocol_version=g.protocol_version,
            actions=tuple(g.actions),
        )
    if which == "registered":
        d = msg.registered
        return Registered(
            agent_id=d.agent_id,
            agents=tuple(
                AgentInfo(a.agent_id, a.role, tuple(a.capabilities), a.public_key, tuple(a.actions)) for a in d.agents
            ),
            protocol_version=d.protocol_version,
            heartbeat_ms=d.heartbeat_ms,
            more_agents=d.more_agents,
        )
    if which == "file_chunk":
        f = msg.file_chunk
        return FileChunk(f.transfer_id, f.path, f.offset, f.data, f.last, f.total_size, f.sha256)
    raise InvalidEnvelopeError("envelope has no payload")


# -- envelopes and frames -------------------------------------------------------------


_ADDRESSES = {"agent_id": "agent", "role": "role", "topic": "topic"}
_KINDS = {int(k): k for k in Kind}
_RECIPIENTS: dict[tuple[str, str], Address] = {}
"""Addresses already seen, by field and value: an agent hears from few, and from the same
ones again and again, so decoding an envelope seldom builds one."""
_RECIPIENTS_KEPT = 4096


def _address_from_proto(msg: pb.Address) -> Address:
    which = msg.WhichOneof("target")
    if which is None:
        raise InvalidEnvelopeError("envelope has no recipient")
    key = (which, getattr(msg, which))
    address = _RECIPIENTS.get(key)
    if address is None:
        if len(_RECIPIENTS) >= _RECIPIENTS_KEPT:
            _RECIPIENTS.clear()
        address = _RECIPIENTS[key] = Address(_ADDRESSES[which], key[1])  # type: ignore[arg-type]
    return address


_TARGETS = {"agent": "agent_id", "role": "role", "topic": "topic"}


def to_proto(env: Envelope) -> pb.Envelope:
    msg = pb.Envelope(
        id=env.id,
        correlation_id=env.correlation_id,
        session_id=env.session_id,
        sender=env.sender,
        kind=env.kind.value,  # type: ignore[arg-type]
        timestamp_us=env.timestamp_us,
        signature=env.signature,
    )
    setattr(msg.recipient, _TARGETS[env.recipient.kind], env.recipient.value)  # no Address copied in
    payload = env.payload
    if type(payload) is Heartbeat:  # the most frequent payload, set in place
        msg.heartbeat.seq = payload.seq
        msg.heartbeat.SetInParent()
    else:
        _payload_to_proto(payload, msg)
    return msg


def from_proto(msg: pb.Envelope, wire: bytes = b"") -> Envelope:
    """``msg`` as an :class:`Envelope`; ``wire`` is the encoding it was read from, if any."""
    envelope_id = msg.id
    if not envelope_id:
        raise InvalidEnvelopeError("envelope has no id")
    kind = _KINDS.get(msg.kind)
    if kind is None:
        raise InvalidEnvelopeError(f"unknown envelope kind {msg.kind}")
    return Envelope(
        envelope_id,
        msg.sender,
        _address_from_proto(msg.recipient),
        kind,
        _payload_from_proto(msg),
        msg.correlation_id,
        msg.session_id,
        msg.timestamp_us,
        msg.signature,
        wire or msg.SerializeToString(),
    )  # positional: half the cost of keywords, on every envelope received


def canonical_bytes(env: Envelope) -> bytes:
    """What a signature covers: the envelope's deterministic protobuf encoding, with an
    empty ``signature`` and an empty ``sender`` (the router fills the sender in from the
    connection's identity, so it cannot be part of what the author signed). For a received
    envelope it is made from the bytes received (only when asked: most are never verified)."""
    msg = pb.Envelope.FromString(env.wire) if env.wire else to_proto(env)
    msg.signature = b""
    msg.sender = ""
    return msg.SerializeToString(deterministic=True)


def encode(env: Envelope) -> bytes:
    return to_proto(env).SerializeToString()


def decode(data: bytes) -> Envelope:
    msg = pb.Envelope()
    try:
        msg.ParseFromString(data)
    except DecodeError as exc:
        raise InvalidEnvelopeError(f"not an IAC envelope: {exc}") from None
    return from_proto(msg, data)


def frame_to_proto(envelopes: Iterable[Envelope]) -> pb.Frame:
    return pb.Frame(envelopes=[to_proto(e) for e in envelopes])


def frame_from_proto(frame: pb.Frame) -> list[Envelope]:
    return [from_proto(m) for m in frame.envelopes]
