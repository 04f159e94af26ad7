"""The task ledger: a durable record of every request orchgpt routes, in SQLite.

One row per request: who asked, which address and which agent instance got it, what was
asked (a command's action, or a task's role and description), and how it ended. A request
id used again after its request ended gets a row of its own; while it is still open, the
new request (or its refusal) replaces the row. States::

    routed ──► accepted ──► done | failed
       │           └──────► gone        (the agent left before answering)
       ├─────────────────► refused     (nobody could take it: unknown agent, no live role …)
       └─────────────────► abandoned   (the requester left first)
    routed/accepted at shutdown or crash ─► interrupted   (marked when orchgpt starts again)

Routing never waits on the disk: the switchboard appends events to a list and a
background task writes them, off the event loop, in one transaction per batch (WAL).
A write starts ``batch_window`` (50 ms) after the first event that needs it, and takes
everything that arrived by then; whatever arrives while it runs goes into the next one.
So batches grow with the load, and a crash of the process loses at most the last moment.
Retention is per client certificate and by age, never one global count: each certificate
keeps its newest ``keep`` rows, and finished rows older than ``days`` go. So a peer that
floods the ledger only ever pushes out its own history. ``orchgpt tasks`` reads the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autogpt.errors import ConfigError
from autogpt.logs import get_logger

log = get_logger("orchgpt.ledger")

STATES = ("routed", "accepted", "done", "failed", "gone", "refused", "abandoned", "interrupted")

_TASKS = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY,
    requester TEXT NOT NULL,
    request_id TEXT NOT NULL,
    session_id TEXT NOT NULL DEFAULT '',
    recipient TEXT NOT NULL DEFAULT '',
    agent TEXT NOT NULL DEFAULT '',
    what TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created_us INTEGER NOT NULL,
    accepted_us INTEGER,
    finished_us INTEGER,
    run INTEGER NOT NULL,
    cert TEXT NOT NULL DEFAULT ''
);
"""

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS runs (
    run INTEGER PRIMARY KEY,
    started_us INTEGER NOT NULL,
    stopped_us INTEGER
);
"""
    + _TASKS
)
# Rows are keyed by an ``id`` the ledger hands out in order, not by (requester, request id):
# request ids are random, so an index on them put every row on a page of its own, and each
# batch's commit wrote some hundreds of scattered pages (over half the ledger's cost under
# request/reply load). The requests still open are found through ``Ledger._open_rows``.

_INDEXES = """
DROP INDEX IF EXISTS tasks_by_time;
CREATE INDEX IF NOT EXISTS tasks_by_cert ON tasks (cert, created_us);
CREATE INDEX IF NOT EXISTS tasks_by_finish ON tasks (finished_us);
DROP INDEX IF EXISTS tasks_by_state;
"""
# No index on ``state``: every request's row went into it (a fifth of the ledger's write cost
# under request/reply load), and only a start-up UPDATE and ``orchgpt tasks --state`` read it.
# None on ``created_us`` either (an eighth of the write cost): row ids are handed out in the
# order requests arrive (and old ledgers were copied over oldest first), so "newest first" is
# the table itself read backwards by id.

_COLUMNS = (
    "requester, request_id, session_id, recipient, agent, what, state, error, prompt_tokens, "
    "completion_tokens, created_us, accepted_us, finished_us, run, cert"
)

_SELECT = (
    "SELECT requester, request_id, session_id, recipient, agent, what, state, error, prompt_tokens, "
    "completion_tokens, created_us, accepted_us, finished_us, run FROM tasks"
)

# Each event is written by row id; an id is only reused to replace a request still open.
_WRITES = {
    "open": f"INSERT OR REPLACE INTO tasks (id, {_COLUMNS}) VALUES ({', '.join('?' * 16)})",  # noqa: S608 - constants
    "accept": "UPDATE tasks SET state = 'accepted', accepted_us = ? WHERE id = ? AND state = 'routed'",
    "finish": "UPDATE tasks SET state = ?, error = ?, prompt_tokens = ?, completion_tokens = ?, "
    "finished_us = ? WHERE id = ? AND state IN ('routed', 'accepted')",
    "refuse": "INSERT OR REPLACE INTO tasks (id, requester, request_id, session_id, recipient, what, error, "
    "state, created_us, finished_us, run, cert) VALUES (?, ?, ?, ?, ?, ?, ?, 'refused', ?, ?, ?, ?)",
}


_OPEN = {"routed", "accepted"}  # the states an acceptance or an end may still change


def merged(events: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[str, tuple[Any, ...]]]:
    """``events`` with each acceptance and end folded into the row opened earlier in the same
    batch, when there is one: a request answered within a batch is one INSERT, not an INSERT
    and UPDATEs. Anything else stays in its place, so the outcome is the same as in order.
    Every event's row starts (inserts) or ends (updates) with the row id."""
    out: list[tuple[str, tuple[Any, ...]]] = []
    opened: dict[int, int] = {}  # row id -> its open row in ``out``
    for op, row in events:
        if op == "open":
            opened[row[0]] = len(out)
        elif op == "refuse":
            opened.pop(row[0], None)
        else:
            at = opened.get(row[-1])
            if at is not None:
                o = out[at][1]
                if o[7] in _OPEN and (op == "finish" or o[7] == "routed"):
                    if op == "accept":
                        folded = (*o[:7], "accepted", *o[8:12], row[0], *o[13:])
                    else:  # finish: state, error, prompt, completion, finished_us
                        folded = (*o[:7], row[0], row[1], row[2], row[3], o[11], o[12], row[4], *o[14:])
                    out[at] = ("open", folded)
                continue  # an UPDATE that would not match changes nothing: dropped
        out.append((op, row))
    return out


def _now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of the ledger, as read back."""

    requester: str
    request_id: str
    session_id: str
    recipient: str
    agent: str
    what: str
    state: str
    error: str
    prompt_tokens: int
    completion_tokens: int
    created_us: int
    accepted_us: int | None
    finished_us: int | None
    run: int

    @property
    def seconds(self) -> float | None:
        """How long it took, for finished requests."""
        return None if self.finished_us is None else (self.finished_us - self.created_us) / 1e6


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    try:
        if readonly:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA cache_size=-32000")  # 32 MB: the indexes of a busy ledger stay in memory
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(tasks)")}
            if "cert" not in columns:  # a ledger from before per-certificate retention
                db.execute("ALTER TABLE tasks ADD COLUMN cert TEXT NOT NULL DEFAULT ''")
            if "id" not in columns:  # a ledger keyed by (requester, request id)
                _rekey(db, path)
            db.executescript(_INDEXES)
        db.execute("PRAGMA busy_timeout=5000")
        return db
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError(
            f"cannot open the task ledger {path}: {exc}", hint="set ORCHGPT_LEDGER to a writable file path"
        ) from None


def _rekey(db: sqlite3.Connection, path: Path) -> None:
    """Copy a ledger keyed by (requester, request id) into the table keyed by row id, oldest
    row first, in one transaction (all or nothing)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("ALTER TABLE tasks RENAME TO tasks_by_request")
        db.execute(_TASKS)
        copied = db.execute(
            f"INSERT INTO tasks ({_COLUMNS}) SELECT {_COLUMNS} FROM tasks_by_request ORDER BY created_us, rowid"  # noqa: S608
        ).rowcount
        db.execute("DROP TABLE tasks_by_request")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    log.info("ledger_rekeyed", path=str(path), rows=copied)


class Ledger:
    """Write side, owned by one orchestrator process."""

    def __init__(self, path: Path, *, keep: int = 20_000, days: float = 30.0, batch_window: float = 0.05) -> None:
        self.path = path
        self.keep = keep
        self.days = days
        self.batch_window = batch_window
        self._wake = asyncio.Event()
        self._closed = asyncio.Event()
        self._db: sqlite3.Connection | None = None
        self._events: list[tuple[str, tuple[Any, ...]]] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.run = 0
        # Row ids of the requests still open, so an acceptance or an end finds its row without
        # an index on request ids; bounded as the router's pending requests are.
        self._open_rows: dict[tuple[str, str], int] = {}
        self._next_id = 1
        self._rows_per_cert: dict[str, int] = {}  # at least as many as there are (pruning counts then)
        self._aged = 0.0  # when rows were last pruned by age (monotonic)
        self._lock_fd: int | None = None
        self._closing = False
        # Told of every event as it happens (metrics, the live view); must not block.
        self.listeners: list[Callable[[str, tuple[Any, ...]], None]] = []

    # -- lifecycle -------------------------------------------------------------------

    def open(self) -> int:
        """Open (or create) the file, close out the previous run, and start a new one.

        Requests still open from an earlier run can never be answered now: they become
        ``interrupted``. Returns how many there were."""
        self._claim()
        try:
            db = _connect(self.path)
        except ConfigError:
            self._release()
            raise
        now = _now_us()
        with db:
            db.execute("BEGIN IMMEDIATE")
            stale = db.execute(
                "UPDATE tasks SET state = 'interrupted', finished_us = ?, error = 'orchgpt stopped before it ended' "
                "WHERE state IN ('routed', 'accepted')",
                (now,),
            ).rowcount
            db.execute("UPDATE runs SET stopped_us = ? WHERE stopped_us IS NULL", (now,))
            self.run = int(db.execute("INSERT INTO runs (started_us) VALUES (?)", (now,)).lastrowid or 0)
            db.execute("COMMIT")
        self._next_id = int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM tasks").fetchone()[0])
        self._rows_per_cert = dict(db.execute("SELECT cert, count(*) FROM tasks GROUP BY cert").fetchall())
        self._open_rows.clear()
        self._db = db
        if stale:
            log.warning("ledger_interrupted", requests=stale)
        log.info("ledger_open", path=str(self.path), run=self.run)
        return stale

    def _claim(self) -> None:
        """One orchestrator per ledger: a second one would mark the first one's open
        requests as interrupted."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigError(f"cannot open the task ledger {self.path}: {exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConfigError(
                f"another orchgpt is using the task ledger {self.path}",
                hint="give each orchestrator its own ledger: ORCHGPT_LEDGER=PATH",
            ) from None
        self._lock_fd = fd

    def start(self) -> None:
        """Begin writing in the background (needs a running loop)."""
        if self._db is None:
            self.open()
        self._task = asyncio.create_task(self._flusher(), name="ledger-flusher")

    async def close(self) -> None:
        """Write what is pending, record the run's end, and close the file."""
        if self._task is not None:
            self._closing = True
            self._closed.set()
            self._wake.set()
            await self._task  # it writes what it has and returns; never cut off mid-transaction
            self._task = None
        try:
            await self.flush()
        except sqlite3.Error as exc:
            log.error("ledger_events_lost", error=str(exc), events=len(self._events))
        if self._db is not None:
            self._db.execute("UPDATE runs SET stopped_us = ? WHERE run = ?", (_now_us(), self.run))
            self._db.close()
            self._db = None
        self._release()

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the claim
            self._lock_fd = None

    # -- events (called on the routing path: appends only) ----------------------------

    def _new_row(self, key: tuple[str, str]) -> int:
        """The row id for a request: the one still open under the same key (it is replaced, as
        before), else the next one."""
        row_id = self._open_rows.get(key)
        if row_id is None:
            row_id = self._next_id
            self._next_id += 1
        return row_id

    def opened(
        self, requester: str, request_id: str, session_id: str, recipient: str, agent: str, what: str, cert: str = ""
    ) -> None:
        key = (requester, request_id)
        row_id = self._open_rows[key] = self._new_row(key)
        now, cert = _now_us(), cert or requester
        row = (row_id, requester, request_id, session_id, recipient, agent, what[:300], "routed", "", 0, 0, now, None,
               None, self.run, cert)  # fmt: skip
        self._events.append(("open", row))
        self._wake.set()
        if self.listeners:
            self._tell("open", row[1:])

    def accepted(self, requester: str, request_id: str) -> None:
        row_id = self._open_rows.get((requester, request_id))
        if row_id is None:  # not open (any more): there is nothing to change
            return
        now = _now_us()
        self._events.append(("accept", (now, row_id)))
        self._wake.set()
        if self.listeners:
            self._tell("accept", (now, requester, request_id))

    def finished(
        self, requester: str, request_id: str, state: str, error: str = "", tokens: tuple[int, int] = (0, 0)
    ) -> None:
        row_id = self._open_rows.pop((requester, request_id), None)
        if row_id is None:  # a request ends once
            return
        row = (state, error[:300], tokens[0], tokens[1], _now_us())
        self._events.append(("finish", (*row, row_id)))
        self._wake.set()
        if self.listeners:
            self._tell("finish", (*row, requester, request_id))

    def refused(
        self, requester: str, request_id: str, session_id: str, recipient: str, what: str, error: str, cert: str = ""
    ) -> None:
        key = (requester, request_id)
        row_id = self._new_row(key)
        self._open_rows.pop(key, None)
        now = _now_us()
        row = (row_id, requester, request_id, session_id, recipient, what[:300], error[:300], now, now, self.run,
               cert or requester)  # fmt: skip
        self._events.append(("refuse", row))
        self._wake.set()
        if self.listeners:
            self._tell("refuse", row[1:])

    # -- writing ---------------------------------------------------------------------

    def _tell(self, op: str, row: tuple[Any, ...]) -> None:
        for listener in self.listeners:
            listener(op, row)

    async def _flusher(self) -> None:
        failures = 0
        while not self._closing:
            await self._wake.wait()
            if not self._closing:  # gather what arrives in the next moment into the same write
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), self.batch_window)
            self._wake.clear()
            try:
                await self.flush()
                failures = 0
            except sqlite3.Error as exc:  # a full disk must not stop routing: keep the events, retry later
                failures += 1
                log.error("ledger_write_failed", error=str(exc), pending=len(self._events))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(0.1 * 2**failures, 5.0))
                self._wake.set()

    async def flush(self) -> None:
        """Write every pending event in one transaction, off the event loop."""
        async with self._lock:
            if not self._events or self._db is None:
                return
            events, self._events = self._events, []
            writing = asyncio.ensure_future(asyncio.to_thread(self._write, events))
            try:
                await asyncio.shield(writing)
            except asyncio.CancelledError:
                await asyncio.wait([writing])  # the thread finishes its transaction regardless
                raise
            except BaseException:
                self._events[:0] = events  # rolled back: they go into the next write
                raise

    def _write(self, events: list[tuple[str, tuple[Any, ...]]]) -> None:
        """One transaction; each run of like events is one ``executemany`` (order is kept:
        a request's row is opened before it is finished)."""
        assert self._db is not None
        db = self._db
        db.execute("BEGIN")
        try:
            for op, run in itertools.groupby(merged(events), key=lambda event: event[0]):
                db.executemany(_WRITES[op], [row for _, row in run])
            self._prune(db, events)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _prune(self, db: sqlite3.Connection, events: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Each certificate keeps its newest ``keep`` rows; finished rows older than ``days`` go.

        Rows are counted per certificate as they are added, from a count made at start; once a
        certificate may be a tenth over ``keep``, its rows are counted again and the oldest of
        them over ``keep`` deleted: the work is the rows that go, not the ones kept."""
        if self.keep:
            counted = self._rows_per_cert
            for op, row in events:
                if op == "open" or op == "refuse":
                    counted[row[-1]] = counted.get(row[-1], 0) + 1
            slack = self.keep // 10
            for cert in [cert for cert, n in counted.items() if n > self.keep + slack]:
                (n,) = db.execute("SELECT count(*) FROM tasks WHERE cert = ?", (cert,)).fetchone()
                over = max(n - self.keep, 0)
                if over:
                    db.execute(
                        "DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE cert = ? "
                        "ORDER BY created_us, id LIMIT ?)",
                        (cert, over),
                    )
                counted[cert] = n - over
        if self.days and time.monotonic() - self._aged > 60:
            self._aged = time.monotonic()
            cutoff = _now_us() - int(self.days * 86_400e6)
            db.execute("DELETE FROM tasks WHERE finished_us IS NOT NULL AND finished_us < ?", (cutoff,))


def read_entries(path: Path, *, state: str | None = None, limit: int = 50) -> list[Entry]:
    """The newest ``limit`` rows (optionally in one state), newest first."""
    if not path.is_file():
        raise ConfigError(f"no task ledger at {path}", hint="orchgpt serve writes it; pass --ledger PATH")
    db = _connect(path, readonly=True)
    try:
        query = _SELECT
        params: tuple[Any, ...] = ()
        if state:
            query += " WHERE state = ?"
            params = (state,)
        rows = db.execute(query + " ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
    finally:
        db.close()
    return [Entry(*row) for row in rows]


def counts(path: Path) -> dict[str, int]:
    """How many rows are in each state."""
    db = _connect(path, readonly=True)
    try:
        return dict(db.execute("SELECT state, count(*) FROM tasks GROUP BY state").fetchall())
    finally:
        db.close()
