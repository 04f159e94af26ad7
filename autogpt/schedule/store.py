"""Scheduled commands and their runs, in one SQLite file (``DATA_DIR/schedule.db``).

An entry is a cron line, a watched path or a task trigger (a role, and optionally an
action, whose finished tasks it follows: :mod:`autogpt.schedule.events`), and the
console line to send when it fires
(``/gen run summarise the logs``). Every run is a row: claimed before it starts, closed
with its outcome. ``UNIQUE(entry, due)`` is what makes "never twice" hold even when two
schedulers share the file: the second claim of one due time fails.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from croniter import croniter

from autogpt.errors import InvalidInputError, StoreBusyError, StoreError
from autogpt.schedule.events import SCHEMA as EVENTS_SCHEMA
from autogpt.schedule.events import LocalEvents, check_task

Kind = Literal["cron", "file", "task"]
CRON_HINT = "five fields: minute hour day-of-month month day-of-week, e.g. '*/15 * * * *' or '0 9 * * 1-5'"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    spec TEXT NOT NULL,
    line TEXT NOT NULL,
    created REAL NOT NULL,
    mark TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    entry INTEGER NOT NULL,
    due REAL NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    outcome TEXT NOT NULL,
    missed INTEGER NOT NULL DEFAULT 0,
    pid INTEGER NOT NULL DEFAULT 0,
    output TEXT NOT NULL DEFAULT '',
    UNIQUE (entry, due)
);
"""


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    kind: Kind
    spec: str
    line: str
    created: float
    mark: str  # cron: the last due time run (epoch seconds); file: the last signature seen; task: the last event run


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    entry: int
    due: float
    started: float
    finished: float | None
    outcome: str  # running, ok, failed, refused, lost
    missed: bool
    output: str


def check_cron(spec: str) -> str:
    """``spec`` normalised, or :class:`InvalidInputError` naming what is wrong."""
    text = " ".join(spec.split())
    if len(text.split()) != 5:
        raise InvalidInputError(f"bad cron line {spec!r}: it has {len(text.split())} fields, not 5", hint=CRON_HINT)
    try:
        croniter(text, datetime.now(UTC))
    except (ValueError, KeyError) as exc:
        raise InvalidInputError(f"bad cron line {spec!r}: {exc}", hint=CRON_HINT) from None
    return text


def latest_due(spec: str, now: float) -> float:
    """The most recent time at or before ``now`` that ``spec`` names (UTC)."""
    base = datetime.fromtimestamp(now, UTC)
    if croniter.match(spec, base.replace(second=0, microsecond=0)):
        return base.replace(second=0, microsecond=0).timestamp()
    return float(croniter(spec, base).get_prev(float))


def next_due(spec: str, after: float) -> float:
    """The first time after ``after`` that ``spec`` names (UTC)."""
    return float(croniter(spec, datetime.fromtimestamp(after, UTC)).get_next(float))


def signature(path: Path) -> str:
    """What changes when a file (or any file under a folder) changes: newest mtime, count, sizes."""
    try:
        if path.is_dir():
            stats = [p.stat() for p in path.rglob("*") if p.is_file() and ".git" not in p.parts]
        else:
            stats = [path.stat()]
    except OSError:
        return "missing"
    return f"{max((s.st_mtime_ns for s in stats), default=0)}:{len(stats)}:{sum(s.st_size for s in stats)}"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ScheduleStore:
    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_SCHEMA + EVENTS_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"schedule store {self.path} is unusable ({exc}); it was left untouched",
                hint="move it aside to start a new schedule",
            ) from None
        except OSError as exc:
            raise StoreError(f"cannot create schedule store {self.path}: {exc.strerror}") from None

    def _exec(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, args)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreBusyError(f"schedule store {self.path} is locked by another process") from None
            raise StoreError(f"schedule store {self.path}: {exc}") from None

    # -- entries -----------------------------------------------------------------------------

    def add(self, kind: Kind, spec: str, line: str, now: float | None = None) -> Entry:
        if not line.strip():
            raise InvalidInputError("the scheduled command is empty", hint='say what to run: "/gen run ..."')
        now = time.time() if now is None else now
        if kind == "cron":
            spec, mark = check_cron(spec), str(now)
        elif kind == "task":
            spec, mark = check_task(spec), ""  # "": tasks that finish from now on
        else:
            spec = str(Path(spec).expanduser().resolve())
            mark = signature(Path(spec))
        cur = self._exec(
            "INSERT INTO entries (kind, spec, line, created, mark) VALUES (?, ?, ?, ?, ?)",
            (kind, spec, line, now, mark),
        )
        return self.entry(int(cur.lastrowid or 0))

    def entry(self, entry_id: int) -> Entry:
        row = self._exec("SELECT id, kind, spec, line, created, mark FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise InvalidInputError(f"there is no schedule entry {entry_id}", hint="see `autogpt schedule list`")
        return Entry(*row)

    def entries(self) -> list[Entry]:
        return [Entry(*r) for r in self._exec("SELECT id, kind, spec, line, created, mark FROM entries ORDER BY id")]

    def remove(self, entry_id: int) -> Entry:
        entry = self.entry(entry_id)
        self._exec("DELETE FROM entries WHERE id = ?", (entry_id,))
        return entry

    # -- runs --------------------------------------------------------------------------------

    def claim(self, entry: Entry, due: float, mark: str, missed: bool, now: float) -> Run | None:
        """Record a run of ``entry`` for ``due`` and move the entry's mark, in one transaction.

        None when that due time was already claimed (another scheduler, or a restart).
        A run still going (its process alive) makes this one ``refused``: runs of one
        entry never overlap."""
        self._exec("BEGIN IMMEDIATE")
        try:
            busy = self._exec(
                "SELECT id, pid FROM runs WHERE entry = ? AND outcome = 'running'", (entry.id,)
            ).fetchall()
            live = [run_id for run_id, pid in busy if _pid_alive(pid)]
            for run_id, _ in busy:
                if run_id not in live:
                    self._exec("UPDATE runs SET outcome = 'lost', finished = ? WHERE id = ?", (now, run_id))
            outcome = "refused" if live else "running"
            note = f"refused: run #{live[0]} of this entry is still going" if live else ""
            try:
                cur = self._exec(
                    "INSERT INTO runs (entry, due, started, outcome, missed, pid, output, finished) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (entry.id, due, now, outcome, int(missed), os.getpid(), note, now if live else None),
                )
            except sqlite3.IntegrityError:
                self._exec("ROLLBACK")
                return None
            self._exec("UPDATE entries SET mark = ? WHERE id = ?", (mark, entry.id))
            self._exec("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        return self.run(int(cur.lastrowid or 0))

    def finish(self, run_id: int, ok: bool, output: str, now: float) -> Run:
        self._exec(
            "UPDATE runs SET outcome = ?, output = ?, finished = ? WHERE id = ?",
            ("ok" if ok else "failed", output[:4000], now, run_id),
        )
        return self.run(run_id)

    def run(self, run_id: int) -> Run:
        row = self._exec(
            "SELECT id, entry, due, started, finished, outcome, missed, output FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        return Run(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]), row[7])

    def runs(self, entry_id: int | None = None, limit: int = 20) -> list[Run]:
        if entry_id is None:
            rows = self._exec("SELECT id FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        else:
            rows = self._exec(
                "SELECT id FROM runs WHERE entry = ? ORDER BY id DESC LIMIT ?", (entry_id, limit)
            ).fetchall()
        return [self.run(r[0]) for r in rows]

    def events(self) -> LocalEvents:
        """The tasks this machine's teams finished (the standalone source of task triggers)."""
        return LocalEvents(self._conn)

    def close(self) -> None:
        self._conn.close()
