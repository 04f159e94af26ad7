"""Files between agents whose workspaces are different folders, as FileChunk payloads.

A requester that wants files to follow its work attaches an *offer* to the Task (or
Command): its workspace's id and a manifest of the project files it holds (path ->
sha256, size). A worker whose workspace has the same id shares the folder, so nothing
moves. Otherwise the worker fetches what it lacks before it starts and sends its
result's files back as chunks before it replies (the Bus does the sending; see IAC.md).

This module is what needs no Bus: splitting, reassembly, offers and which paths may
travel at all. Its store is anything shaped like ``autogpt.tools.workspace.Workspace``
(this layer may not import it). Reassembly is all or nothing: a file is written, through
the store and atomically, only once its last chunk checks out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn, Protocol

from autogpt.errors import InvalidEnvelopeError, TransferError, WorkspaceError
from autogpt.iac.envelope import Command, Envelope, FileChunk, Kind, Payload, Task, new_id

CHUNK_BYTES = 256 * 1024
"""Data per chunk: a quarter of the 1 MiB envelope limit, so several fit in one 4 MiB frame."""
MAX_FILES = 2000
"""Most files one offer lists, and one request may receive."""
MAX_OPEN = 4
"""Transfers reassembled at once per request: memory stays bounded by this times a file's limit."""
OFFER_KEY = "workspace"
"""Where the offer sits: ``Task.input`` or ``Command.args``."""
FETCH_ACTION = "fetch"

_EXCLUDED_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})
_SECRET_NAME = re.compile(r".*\.(key|pem|p12|pfx|keystore)|id_(rsa|dsa|ecdsa|ed25519)(\.pub)?", re.IGNORECASE)
_SECRET = re.compile(
    rb"(sk-ant-[A-Za-z0-9_-]{20,}|sk-[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    rb"|ghp_[A-Za-z0-9]{30,})"
)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[0-9A-Za-z_.-]{1,64}")


class FileStore(Protocol):
    """What a transfer reads from and writes into (a Workspace)."""

    @property
    def identity(self) -> str: ...

    @property
    def max_file_bytes(self) -> int: ...

    def resolve(self, relative: str) -> Path: ...

    def manifest(self) -> dict[str, FileEntry]: ...

    def read_bytes(self, relative: str) -> bytes: ...

    def write_bytes(self, relative: str, data: bytes, *, agent: str = "") -> object: ...


def excluded_name(name: str) -> bool:
    """A folder or file name that never travels: hidden, environments, caches, key files."""
    return name.startswith(".") or name in _EXCLUDED_DIRS or bool(_SECRET_NAME.fullmatch(name)) or name.endswith(".pyc")


def looks_secret(data: bytes) -> bool:
    """Whether ``data`` (its first megabyte) holds something shaped like a key or token:
    such files are never offered, sent or committed."""
    return bool(_SECRET.search(data[:1_000_000]))


def shareable(path: str) -> bool:
    """Whether ``path`` is a project file that may be offered, fetched or received."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or "\\" in path:
        return False
    return all(part not in ("", "..") and not excluded_name(part) for part in pure.parts)


@dataclass(frozen=True, slots=True)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Offer:
    """A requester's workspace id and the project files it can hand out."""

    workspace: str
    files: Mapping[str, FileEntry] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.workspace,
            "files": {p: {"sha256": e.sha256, "size": e.size} for p, e in sorted(self.files.items())},
        }

    @classmethod
    def parse(cls, value: object) -> Offer:
        """An offer from untrusted JSON; :class:`InvalidEnvelopeError` when malformed."""
        if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not _ID.fullmatch(value["id"]):
            raise InvalidEnvelopeError(f"'{OFFER_KEY}' needs an id of up to 64 letters, digits, '_', '.' or '-'")
        raw = value.get("files", {})
        if not isinstance(raw, dict) or len(raw) > MAX_FILES:
            raise InvalidEnvelopeError(f"'{OFFER_KEY}.files' must be an object of at most {MAX_FILES} files")
        files: dict[str, FileEntry] = {}
        for path, entry in raw.items():
            if not shareable(path):
                raise InvalidEnvelopeError(f"the offer lists {path!r}, which is not a project file")
            digest = entry.get("sha256") if isinstance(entry, dict) else None
            if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
                raise InvalidEnvelopeError(f"the offer's entry for {path!r} needs a sha256 in lowercase hex")
            size = entry.get("size")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise InvalidEnvelopeError(f"the offer's entry for {path!r} needs a size in bytes")
            files[path] = FileEntry(digest, size)
        return cls(value["id"], files)


def offer_of(payload: Payload) -> Offer | None:
    """The offer a Task or Command carries, if any."""
    if isinstance(payload, Task):
        raw = payload.input.get(OFFER_KEY)
    elif isinstance(payload, Command):
        raw = payload.args.get(OFFER_KEY)
    else:
        return None
    return None if raw is None else Offer.parse(raw)


def with_offer(payload: Payload, offer: Offer) -> Payload:
    """``payload`` carrying ``offer``; other payloads are returned unchanged."""
    if isinstance(payload, Task):
        return replace(payload, input={**payload.input, OFFER_KEY: offer.to_json()})
    if isinstance(payload, Command):
        return replace(payload, args={**payload.args, OFFER_KEY: offer.to_json()})
    return payload


def fetch_command(paths: list[str]) -> Command:
    return Command(FETCH_ACTION, args={"paths": paths})


def is_fetch(envelope: Envelope) -> bool:
    """A request for offered files: a ``fetch`` Command correlated to the offering request."""
    payload = envelope.payload
    return (
        envelope.kind == Kind.REQUEST
        and bool(envelope.correlation_id)
        and isinstance(payload, Command)
        and payload.action == FETCH_ACTION
    )


def fetched_paths(command: Command) -> list[str]:
    paths = command.args.get("paths")
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths) or len(paths) > MAX_FILES:
        raise InvalidEnvelopeError(f"a fetch needs 'paths': a list of at most {MAX_FILES} paths")
    return list(dict.fromkeys(paths))


def split(path: str, data: bytes, *, chunk_bytes: int = CHUNK_BYTES) -> Iterator[FileChunk]:
    """``data`` as the chunks of one transfer, in offset order.

    Every chunk states the total size (so a receiver can refuse a file too large from the
    first chunk on); the last one carries the sha256 of the whole. An empty file is one chunk."""
    transfer_id = new_id()
    digest = hashlib.sha256(data).hexdigest()
    offset = 0
    while True:
        piece = data[offset : offset + chunk_bytes]
        last = offset + len(piece) >= len(data)
        yield FileChunk(transfer_id, path, offset, piece, last, len(data), digest if last else "")
        if last:
            return
        offset += len(piece)


@dataclass(slots=True)
class _Incoming:
    path: str
    total: int
    data: bytearray


class Receiver:
    """Reassembles the files one peer sends for one request, and writes each when complete.

    Anything out of rule raises :class:`TransferError` (or the store's
    :class:`~autogpt.errors.PathOutsideWorkspaceError`) and drops that transfer, so a file is
    either written whole and verified or not at all."""

    def __init__(
        self, store: FileStore, *, agent: str = "", max_open: int = MAX_OPEN, max_files: int = MAX_FILES
    ) -> None:
        self._store = store
        self.agent = agent  # recorded as the writer of what arrives
        self._max_open = max_open
        self._max_files = max_files
        self._open: dict[str, _Incoming] = {}
        self._seen: set[str] = set()
        self.written: list[str] = []

    def accept(self, chunk: FileChunk) -> str | None:
        """Take one chunk; returns the path once its file is complete and written."""
        incoming = self._open.get(chunk.transfer_id)
        if incoming is None:
            incoming = self._start(chunk)
        elif chunk.path != incoming.path or chunk.total_size != incoming.total:
            self._drop(chunk.transfer_id, f"a chunk of {incoming.path!r} changed its path or total size")
        elif chunk.offset != len(incoming.data):
            expected = len(incoming.data)
            self._drop(chunk.transfer_id, f"{incoming.path!r}: chunk at offset {chunk.offset}, {expected} expected")
        if len(incoming.data) + len(chunk.data) > incoming.total:
            self._drop(chunk.transfer_id, f"{incoming.path!r} is longer than its declared {incoming.total} bytes")
        incoming.data += chunk.data
        if not chunk.last:
            return None
        del self._open[chunk.transfer_id]
        if len(incoming.data) != incoming.total:
            raise TransferError(f"{incoming.path!r} ended at {len(incoming.data)} of {incoming.total} bytes")
        if hashlib.sha256(incoming.data).hexdigest() != chunk.sha256:
            raise TransferError(f"{incoming.path!r} does not match its sha256")
        try:
            self._store.write_bytes(incoming.path, bytes(incoming.data), agent=self.agent)
        except OSError as exc:
            raise WorkspaceError(f"cannot write {incoming.path!r}: {exc}") from None
        self.written.append(incoming.path)
        return incoming.path

    def finish(self) -> None:
        """The peer is done (it replied): a transfer still open never completed."""
        if self._open:
            paths = ", ".join(repr(i.path) for i in self._open.values())
            self._open.clear()
            raise TransferError(f"incomplete transfer of {paths}")

    def _start(self, chunk: FileChunk) -> _Incoming:
        tid = chunk.transfer_id
        if chunk.offset != 0:
            raise TransferError(f"chunk at offset {chunk.offset} of unknown transfer {tid[:64]!r}")
        if not _ID.fullmatch(tid) or tid in self._seen:
            raise TransferError(f"transfer id {tid[:64]!r} is malformed or was already used")
        self._store.resolve(chunk.path)  # absolute, '..', '.git' or a symlink out: refused here
        if not shareable(chunk.path):
            raise TransferError(f"{chunk.path!r} is not a project file and may not be sent")
        if chunk.total_size > self._store.max_file_bytes:
            limit = self._store.max_file_bytes
            raise TransferError(f"{chunk.path!r} is {chunk.total_size} bytes; the limit is {limit}")
        if len(self._open) >= self._max_open:
            raise TransferError(f"more than {self._max_open} files sent at once")
        if len(self._seen) >= self._max_files:
            raise TransferError(f"more than {self._max_files} files sent for one request")
        self._seen.add(tid)
        incoming = _Incoming(chunk.path, chunk.total_size, bytearray())
        self._open[tid] = incoming
        return incoming

    def _drop(self, transfer_id: str, reason: str) -> NoReturn:
        del self._open[transfer_id]
        raise TransferError(reason)
