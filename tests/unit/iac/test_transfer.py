"""Files in chunks: split, reassembled in order, checked, and written whole or not at all."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

import pytest

from autogpt.errors import InvalidEnvelopeError, PathOutsideWorkspaceError, TransferError, WorkspaceError
from autogpt.iac import codec
from autogpt.iac.envelope import Address, Command, Envelope, FileChunk, Kind, Task
from autogpt.iac.transfer import (
    CHUNK_BYTES,
    FileEntry,
    Offer,
    Receiver,
    fetch_command,
    fetched_paths,
    is_fetch,
    offer_of,
    shareable,
    split,
    with_offer,
)
from autogpt.tools.workspace import Workspace

SHA = "a" * 64


def tree(path: Path) -> list[str]:
    """Every file under ``path``, hidden ones and temp files included."""
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws", max_file_bytes=1 << 20).ensure()


def test_a_multi_chunk_file_round_trips_through_the_wire_format(ws: Workspace) -> None:
    data = os.urandom(2 * CHUNK_BYTES + 1234)
    chunks = list(split("assets/blob.bin", data))
    assert [c.offset for c in chunks] == [0, CHUNK_BYTES, 2 * CHUNK_BYTES]
    assert [c.last for c in chunks] == [False, False, True]
    assert {c.transfer_id for c in chunks} == {chunks[0].transfer_id}
    assert all(c.total_size == len(data) for c in chunks)
    assert chunks[-1].sha256 == hashlib.sha256(data).hexdigest()
    assert [c.sha256 for c in chunks[:-1]] == ["", ""]
    receiver = Receiver(ws, agent="back1")
    done = []
    for chunk in chunks:  # as the receiving Bus sees them: encoded and decoded again
        env = Envelope.new(Address.agent("man1"), chunk, kind=Kind.EVENT, correlation_id="r1")
        decoded = codec.from_proto(codec.to_proto(env)).payload
        assert isinstance(decoded, FileChunk)
        done.append(receiver.accept(decoded))
    assert done == [None, None, "assets/blob.bin"]
    assert (ws.root / "assets/blob.bin").read_bytes() == data
    assert receiver.written == ["assets/blob.bin"]
    assert ws.writes[-1].agent == "back1"
    receiver.finish()  # nothing left open


def test_every_chunk_fits_well_inside_an_envelope() -> None:
    chunk = next(split("big.bin", b"x" * (3 * CHUNK_BYTES)))
    env = Envelope.new(Address.agent("a" * 64), chunk, kind=Kind.EVENT, correlation_id="c" * 32, session_id="s" * 32)
    assert codec.to_proto(env).ByteSize() < 512 * 1024  # the router's limit is 1 MiB


def test_an_empty_file_is_one_chunk(ws: Workspace) -> None:
    chunks = list(split("empty.txt", b""))
    assert len(chunks) == 1
    assert chunks[0].last
    assert Receiver(ws).accept(chunks[0]) == "empty.txt"
    assert (ws.root / "empty.txt").read_bytes() == b""


def test_a_bad_sha256_writes_nothing(ws: Workspace) -> None:
    *head, last = split("app/main.py", b"print('hi')\n" * 50000, chunk_bytes=100_000)
    receiver = Receiver(ws)
    for chunk in head:
        receiver.accept(chunk)
    with pytest.raises(TransferError, match="does not match its sha256"):
        receiver.accept(replace(last, sha256="0" * 64))
    assert tree(ws.root) == []


def test_a_corrupted_chunk_fails_the_sha_check(ws: Workspace) -> None:
    first, second = split("a.txt", b"abcdef", chunk_bytes=3)
    receiver = Receiver(ws)
    receiver.accept(replace(first, data=b"xyz"))
    with pytest.raises(TransferError, match="sha256"):
        receiver.accept(second)
    assert not (ws.root / "a.txt").exists()


def test_an_out_of_order_offset_drops_the_transfer(ws: Workspace) -> None:
    first, second, third = split("a.txt", b"abcdefghi", chunk_bytes=3)
    receiver = Receiver(ws)
    receiver.accept(first)
    with pytest.raises(TransferError, match="chunk at offset 6, 3 expected"):
        receiver.accept(third)
    with pytest.raises(TransferError, match="unknown transfer"):  # dropped: the rest is refused too
        receiver.accept(second)
    receiver.finish()
    assert tree(ws.root) == []


def test_a_repeated_chunk_is_out_of_order(ws: Workspace) -> None:
    first, _ = split("a.txt", b"abcdef", chunk_bytes=3)
    receiver = Receiver(ws)
    receiver.accept(first)
    with pytest.raises(TransferError, match="offset 0, 3 expected"):
        receiver.accept(first)


def test_a_chunk_of_an_unknown_transfer_is_refused(ws: Workspace) -> None:
    _, second = split("a.txt", b"abcdef", chunk_bytes=3)
    with pytest.raises(TransferError, match="unknown transfer"):
        Receiver(ws).accept(second)
    assert tree(ws.root) == []


def test_a_finished_transfer_cannot_be_reopened(ws: Workspace) -> None:
    (only,) = split("a.txt", b"abc")
    receiver = Receiver(ws)
    receiver.accept(only)
    with pytest.raises(TransferError, match="already used"):
        receiver.accept(only)


def test_an_oversized_total_is_refused_on_the_first_chunk(ws: Workspace) -> None:
    first = next(split("huge.bin", b"x" * (ws.max_file_bytes + 1), chunk_bytes=1024))
    with pytest.raises(TransferError, match="the limit is"):
        Receiver(ws).accept(first)
    assert tree(ws.root) == []


def test_more_bytes_than_declared_are_refused(ws: Workspace) -> None:
    first, second = split("a.txt", b"abcdef", chunk_bytes=3)
    receiver = Receiver(ws)
    receiver.accept(replace(first, total_size=4))
    with pytest.raises(TransferError, match="changed its path or total size"):
        receiver.accept(second)
    receiver = Receiver(ws)
    receiver.accept(replace(first, total_size=4))
    with pytest.raises(TransferError, match="longer than its declared 4 bytes"):
        receiver.accept(replace(second, total_size=4))
    assert tree(ws.root) == []


def test_a_transfer_that_stops_early_is_incomplete(ws: Workspace) -> None:
    first, _ = split("a.txt", b"abcdef", chunk_bytes=3)
    receiver = Receiver(ws)
    receiver.accept(first)
    with pytest.raises(TransferError, match=r"incomplete transfer of 'a\.txt'"):
        receiver.finish()
    short = replace(first, last=True, sha256=hashlib.sha256(b"abc").hexdigest())
    with pytest.raises(TransferError, match="ended at 3 of 6 bytes"):
        Receiver(ws).accept(short)
    assert tree(ws.root) == []


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("../outside.txt", PathOutsideWorkspaceError),
        ("/etc/passwd", PathOutsideWorkspaceError),
        ("app/../../outside.txt", PathOutsideWorkspaceError),
        (".git/hooks/pre-commit", PathOutsideWorkspaceError),
        ("link/escape.txt", PathOutsideWorkspaceError),  # a symlink out of the workspace
        (".venv/bin/python", TransferError),
        ("node_modules/x/index.js", TransferError),
        (".autogpt/workspace-id", PathOutsideWorkspaceError),  # a tool's own folder
        ("certs/server.key", TransferError),
    ],
)
def test_paths_outside_the_project_are_refused(
    ws: Workspace, tmp_path: Path, path: str, error: type[Exception]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (ws.root / "link").symlink_to(outside)
    (chunk,) = split(path, b"#!/bin/sh\ntouch pwned\n")
    with pytest.raises(error):
        Receiver(ws).accept(chunk)
    assert tree(outside) == []
    assert tree(ws.root) == []
    assert not (tmp_path / "outside.txt").exists()


def test_open_transfers_are_bounded(ws: Workspace) -> None:
    receiver = Receiver(ws, max_open=2)
    receiver.accept(next(split("a.txt", b"abcdef", chunk_bytes=3)))
    receiver.accept(next(split("b.txt", b"abcdef", chunk_bytes=3)))
    with pytest.raises(TransferError, match="more than 2 files sent at once"):
        receiver.accept(next(split("c.txt", b"abcdef", chunk_bytes=3)))


def test_files_per_request_are_bounded(ws: Workspace) -> None:
    receiver = Receiver(ws, max_files=1)
    receiver.accept(next(split("a.txt", b"abc")))
    with pytest.raises(TransferError, match="more than 1 files"):
        receiver.accept(next(split("b.txt", b"abc")))


def test_a_write_the_workspace_refuses_is_typed(ws: Workspace) -> None:
    (ws.root / "app").mkdir()
    (chunk,) = split("app", b"not a folder")
    with pytest.raises(WorkspaceError, match="is a directory"):
        Receiver(ws).accept(chunk)


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("app/main.py", True),
        ("contract.json", True),
        ("web/index.html", True),
        ("", False),
        ("/abs", False),
        ("a/../b", False),
        ("a\\b", False),
        (".env", False),
        (".gitignore", False),
        ("app/__pycache__/m.pyc", False),
        ("venv/lib/x.py", False),
        ("deploy/id_rsa", False),
        ("tls/cert.PEM", False),
    ],
)
def test_which_paths_may_travel(path: str, ok: bool) -> None:
    assert shareable(path) is ok


def test_an_offer_rides_in_a_task_or_a_command_and_parses_back() -> None:
    offer = Offer("f" * 32, {"app/main.py": FileEntry(SHA, 12)})
    task = with_offer(Task("t1", "backend", "build", input={"idea": "x"}), offer)
    assert isinstance(task, Task)
    assert task.input["idea"] == "x"
    env = Envelope.new(Address.role("backend"), task, kind=Kind.REQUEST)
    assert offer_of(codec.from_proto(codec.to_proto(env)).payload) == offer
    command = with_offer(Command("commit", "m", args={"author": "A"}), offer)
    assert offer_of(command) == offer
    assert offer_of(Command("run")) is None
    assert offer_of(Task("t1", "b", "d")) is None
    assert with_offer(FileChunk("t", "p", 0, b""), offer) == FileChunk("t", "p", 0, b"")
    assert offer_of(FileChunk("t", "p", 0, b"")) is None


@pytest.mark.parametrize(
    "raw",
    [
        "not an object",
        {"files": {}},
        {"id": "x y", "files": {}},
        {"id": "abc", "files": []},
        {"id": "abc", "files": {"../x": {"sha256": SHA, "size": 1}}},
        {"id": "abc", "files": {".git/config": {"sha256": SHA, "size": 1}}},
        {"id": "abc", "files": {"a.py": {"sha256": "zz", "size": 1}}},
        {"id": "abc", "files": {"a.py": "nope"}},
        {"id": "abc", "files": {"a.py": {"sha256": SHA, "size": -1}}},
        {"id": "abc", "files": {"a.py": {"sha256": SHA, "size": True}}},
    ],
)
def test_a_malformed_offer_is_a_typed_error(raw: object) -> None:
    with pytest.raises(InvalidEnvelopeError):
        offer_of(Task("t1", "backend", "d", input={"workspace": raw}))


def test_a_fetch_names_the_request_that_offered_the_files() -> None:
    fetch = Envelope.new(Address.agent("man1"), fetch_command(["a.py", "a.py"]), kind=Kind.REQUEST, correlation_id="r")
    assert is_fetch(fetch)
    assert isinstance(fetch.payload, Command)
    assert fetched_paths(fetch.payload) == ["a.py"]
    assert not is_fetch(replace(fetch, correlation_id=""))
    assert not is_fetch(replace(fetch, kind=Kind.EVENT))
    assert not is_fetch(replace(fetch, payload=Command("run")))
    with pytest.raises(InvalidEnvelopeError, match="'paths'"):
        fetched_paths(Command("fetch", args={"paths": "a.py"}))
