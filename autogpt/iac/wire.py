"""Envelopes as bytes: what a relay needs to route without decoding payloads.

A ``Frame`` is ``repeated Envelope envelopes = 1``, so its wire form is nothing but each
envelope's encoding behind a tag byte (``0x0A``) and a varint length. :func:`split` cuts a
frame into those encodings and :func:`take_frame` joins queued encodings into a frame by
concatenation: an envelope is encoded once, sized once (``len``), and never copied into a
new message. :class:`Header` reads an envelope's header fields and leaves each payload as
opaque bytes (a payload field has the same wire form as a ``bytes`` field), so routing
builds no payload objects. :func:`with_sender` sets the sender by appending the field:
protobuf parsers keep the last value of a repeated scalar field, so what the client put
there no longer counts, and nothing else of the envelope is touched.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

TAG = 0x0A  # field 1, length-delimited: one envelope of a Frame
_SENDER = b"\x22"  # field 4, length-delimited: Envelope.sender

_PAYLOADS = (
    "command", "task", "status", "result", "error", "heartbeat", "register", "registered", "file_chunk",
)  # fmt: skip


def _header_class() -> Any:
    """``Envelope`` with the same field numbers, its payloads declared as ``bytes``."""
    f = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="iac_wire_header.proto", package="iac.wire", syntax="proto3")
    address = file.message_type.add(name="Address")
    address.oneof_decl.add(name="target")
    for number, name in enumerate(("agent_id", "role", "topic"), 1):
        address.field.add(name=name, number=number, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL, oneof_index=0)
    header = file.message_type.add(name="Header")
    for number, name, kind in (
        (1, "id", f.TYPE_STRING),
        (2, "correlation_id", f.TYPE_STRING),
        (3, "session_id", f.TYPE_STRING),
        (4, "sender", f.TYPE_STRING),
        (6, "kind", f.TYPE_INT32),
        (7, "timestamp_us", f.TYPE_INT64),
        (8, "signature", f.TYPE_BYTES),
    ):
        header.field.add(name=name, number=number, type=kind, label=f.LABEL_OPTIONAL)
    header.field.add(
        name="recipient", number=5, type=f.TYPE_MESSAGE, type_name=".iac.wire.Address", label=f.LABEL_OPTIONAL
    )
    header.oneof_decl.add(name="payload")
    for number, name in enumerate(_PAYLOADS, 10):
        header.field.add(name=name, number=number, type=f.TYPE_BYTES, label=f.LABEL_OPTIONAL, oneof_index=0)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("iac.wire.Header"))


if TYPE_CHECKING:
    Header = Any
else:
    Header = _header_class()
"""An envelope's header: ``id``, ``kind``, ``recipient`` … as usual, each payload as bytes."""


def header(data: bytes) -> Header:
    """The header of one encoded envelope; :class:`DecodeError` when it is not one."""
    return Header.FromString(data)


def varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_SMALL = [bytes((TAG, n)) for n in range(0x80)]


def prefix(size: int) -> bytes:
    """What goes before an envelope of ``size`` bytes in a frame."""
    if size < 0x80:
        return _SMALL[size]
    if size < 0x4000:
        return bytes((TAG, size & 0x7F | 0x80, size >> 7))
    return bytes((TAG,)) + varint(size)


def field(number: int, data: bytes) -> bytes:
    """A length-delimited field (a string, bytes or a message) as it goes on the wire:
    appending it to a message's encoding sets it, or adds one to a repeated field."""
    return varint(number << 3 | 2) + varint(len(data)) + data


def with_sender(data: bytes, sender: bytes) -> bytes:
    """``data`` with its sender set to ``sender`` (UTF-8), whatever it said before."""
    return data + _SENDER + varint(len(sender)) + sender


def split(frame: bytes, most: int) -> list[bytes]:
    """The envelopes of an encoded frame, stopping once there are more than ``most``."""
    out: list[bytes] = []
    end = len(frame)
    i = 0
    try:
        while i < end and len(out) <= most:
            if frame[i] != TAG:
                raise DecodeError(f"unexpected field in a frame at byte {i}")
            size = frame[i + 1]
            i += 2
            if size & 0x80:
                size &= 0x7F
                shift = 7
                while True:
                    byte = frame[i]
                    i += 1
                    size |= (byte & 0x7F) << shift
                    if not byte & 0x80:
                        break
                    shift += 7
                    if shift > 35:
                        raise DecodeError("envelope length is not a valid varint")
            if i + size > end:
                raise DecodeError("envelope runs past the end of the frame")
            out.append(frame[i : i + size])
            i += size
    except IndexError:
        raise DecodeError("frame ends inside an envelope length") from None
    return out


def frame_of(envelopes: list[bytes]) -> bytes:
    parts = []
    for data in envelopes:
        parts.append(prefix(len(data)))
        parts.append(data)
    return b"".join(parts)


def take_frame(queue: deque[bytes], batch: int, frame_bytes: int) -> tuple[bytes, int]:
    """Coalesce from the head of ``queue``, by count and by bytes, into one encoded frame
    (at least one envelope); returns it and the envelope bytes taken off the queue."""
    parts = []
    taken = 0
    count = 0
    while queue and count < batch:
        size = len(queue[0])
        if count and taken + size > frame_bytes:
            break
        data = queue.popleft()
        parts.append(prefix(size))
        parts.append(data)
        taken += size
        count += 1
    return b"".join(parts), taken
