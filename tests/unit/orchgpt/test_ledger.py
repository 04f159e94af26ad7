"""The ledger on its own: states, a crashed run's open requests, pruning, one writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from autogpt.errors import ConfigError
from orchgpt.ledger import Ledger, counts, merged, read_entries


async def test_a_request_moves_from_routed_to_accepted_to_done(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    assert ledger.open() == 0
    ledger.opened("alice", "r1", "s1", "role:backend", "back1", "task backend: build the server")
    await ledger.flush()
    assert [e.state for e in read_entries(ledger.path)] == ["routed"]
    ledger.accepted("alice", "r1")
    ledger.finished("alice", "r1", "done", tokens=(10, 4))
    ledger.finished("alice", "r1", "gone", "too late")  # a finished request stays finished
    ledger.accepted("bob", "r1")  # same id from someone else: a different request, unknown here
    await ledger.flush()
    (entry,) = read_entries(ledger.path)
    assert (entry.state, entry.error, entry.prompt_tokens, entry.completion_tokens) == ("done", "", 10, 4)
    assert entry.seconds is not None
    assert entry.seconds >= 0
    await ledger.close()


async def test_requests_open_when_a_run_dies_are_interrupted_by_the_next(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    crashed = Ledger(path)
    crashed.open()
    crashed.opened("alice", "r1", "", "agent:gen1", "gen1", "run slow")
    crashed.opened("alice", "r2", "", "agent:gen1", "gen1", "run quick")
    crashed.finished("alice", "r2", "done")
    await crashed.flush()
    crashed._release()  # what the end of a killed process does to its lock; nothing else is written
    following = Ledger(path)
    assert following.open() == 1
    states = {e.what: (e.state, e.run) for e in read_entries(path)}
    assert states == {"run slow": ("interrupted", crashed.run), "run quick": ("done", crashed.run)}
    assert following.run == crashed.run + 1
    await following.close()


async def test_only_the_newest_rows_are_kept(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3", keep=5)
    ledger.open()
    for i in range(12):
        ledger.opened("alice", f"r{i}", "", "role:generic", "gen1", f"job {i}")
    ledger.refused("alice", "x", "", "role:architect", "create", "NO_LIVE_AGENT")
    await ledger.flush()
    assert [e.what for e in read_entries(ledger.path)] == ["create", "job 11", "job 10", "job 9", "job 8"]
    assert counts(ledger.path) == {"refused": 1, "routed": 4}
    await ledger.close()


async def test_one_orchestrator_per_ledger_and_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    first = Ledger(path)
    first.open()
    with pytest.raises(ConfigError, match="another orchgpt"):
        Ledger(path).open()
    await first.close()
    again = Ledger(path)
    again.open()  # free once the first has closed
    await again.close()
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="cannot open the task ledger"):
        Ledger(tmp_path / "file" / "l.sqlite3").open()
    with pytest.raises(ConfigError, match="no task ledger"):
        read_entries(tmp_path / "missing.sqlite3")


async def test_a_batch_folds_answers_into_their_rows_with_the_same_outcome(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.open()
    ledger.opened("alice", "old", "", "role:generic", "gen1", "job 0")
    await ledger.flush()
    ledger.finished("alice", "old", "done")  # opened in an earlier batch: stays an UPDATE
    ledger.finished("alice", "never", "done")  # never opened in this run: nothing to change
    ledger.opened("alice", "r1", "", "role:generic", "gen1", "job 1")
    ledger.accepted("alice", "r1")
    ledger.finished("alice", "r1", "done", tokens=(3, 4))
    ledger.finished("alice", "r1", "failed", "late")  # the request has ended: changes nothing
    ledger.opened("alice", "r2", "", "role:generic", "gen1", "job 2")
    ledger.refused("alice", "r2", "", "role:generic", "job 2", "OVERLOADED")  # replaces its row
    ledger.finished("alice", "r2", "done")  # no longer open: the refused row stays
    ops = [op for op, _ in merged(ledger._events)]
    assert ops == ["finish", "open", "open", "refuse"]
    await ledger.flush()
    rows = {e.request_id: e for e in read_entries(ledger.path)}
    assert len(read_entries(ledger.path)) == 3
    assert rows["old"].state == "done"
    assert (rows["r1"].state, rows["r1"].prompt_tokens, rows["r1"].completion_tokens) == ("done", 3, 4)
    assert rows["r1"].accepted_us is not None
    assert rows["r1"].finished_us is not None
    assert (rows["r2"].state, rows["r2"].error) == ("refused", "OVERLOADED")
    await ledger.close()


async def test_a_request_id_used_again_after_its_end_is_a_row_of_its_own(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.open()
    ledger.opened("alice", "r1", "", "role:generic", "gen1", "first")
    ledger.finished("alice", "r1", "done")
    ledger.opened("alice", "r1", "", "role:generic", "gen1", "second")
    ledger.opened("alice", "r1", "", "role:generic", "gen1", "third")  # still open: replaces "second"
    await ledger.flush()
    assert {e.what: e.state for e in read_entries(ledger.path)} == {"first": "done", "third": "routed"}
    await ledger.close()


_KEYED_BY_REQUEST = """
CREATE TABLE runs (run INTEGER PRIMARY KEY, started_us INTEGER NOT NULL, stopped_us INTEGER);
CREATE TABLE tasks (
    requester TEXT NOT NULL, request_id TEXT NOT NULL, session_id TEXT NOT NULL DEFAULT '',
    recipient TEXT NOT NULL DEFAULT '', agent TEXT NOT NULL DEFAULT '', what TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL, error TEXT NOT NULL DEFAULT '', prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0, created_us INTEGER NOT NULL, accepted_us INTEGER,
    finished_us INTEGER, run INTEGER NOT NULL, PRIMARY KEY (requester, request_id)
);
CREATE INDEX tasks_by_time ON tasks (created_us);
CREATE INDEX tasks_by_state ON tasks (state);
INSERT INTO runs (started_us) VALUES (1);
INSERT INTO tasks (requester, request_id, what, state, created_us, finished_us, run)
    VALUES ('alice', 'a', 'done long ago', 'done', 10, 20, 1), ('bob', 'b', 'open at the crash', 'routed', 30, NULL, 1);
"""


async def test_a_ledger_keyed_by_request_is_copied_whole_and_then_written_as_usual(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "l.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(_KEYED_BY_REQUEST)
    ledger = Ledger(path, days=0)  # alice's row is decades old: kept only because days=0
    assert ledger.open() == 1  # bob's request was open when that orchestrator stopped
    ledger.opened("carol", "c", "", "role:generic", "gen1", "new")
    ledger.finished("carol", "c", "done")
    await ledger.flush()
    assert [(e.requester, e.state) for e in read_entries(path)] == [
        ("carol", "done"), ("bob", "interrupted"), ("alice", "done"),
    ]  # fmt: skip
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(tasks)")]
        indexes = {row[1] for row in db.execute("PRAGMA index_list(tasks)")}
    assert columns[0] == "id"
    assert "cert" in columns
    assert indexes == {"tasks_by_cert", "tasks_by_finish"}  # none on request ids, none on time (ids are in order)
    await ledger.close()


async def test_pruning_counts_rows_per_certificate_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    first = Ledger(path, keep=10)
    first.open()
    for i in range(10):
        first.opened("alice", f"a{i}", "", "role:generic", "gen1", f"a {i}", cert="alice")
    await first.close()
    second = Ledger(path, keep=10)  # starts knowing alice has 10 rows
    second.open()
    for i in range(3):
        second.opened("alice", f"b{i}", "", "role:generic", "gen1", f"b {i}", cert="alice")
        second.opened("bob", f"b{i}", "", "role:generic", "gen1", f"bob {i}", cert="bob")
    await second.flush()
    entries = read_entries(path, limit=100)
    assert sorted(e.what for e in entries if e.requester == "alice") == sorted(
        [f"a {i}" for i in range(3, 10)] + [f"b {i}" for i in range(3)]
    )
    assert len([e for e in entries if e.requester == "bob"]) == 3
    await second.close()
