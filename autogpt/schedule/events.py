"""Where "a task finished" comes from, for entries that run when one does.

Standalone, the team's task runner (ManagerGPT) writes each finished task into the
schedule file's ``finished`` table (:func:`record_finished`), only when that file exists:
nobody who has never scheduled anything pays for it. Networked, orchgpt's task ledger
already holds every request and how it ended; :class:`LedgerEvents` reads it, read-only.

Both give events with a sequence number that only grows (a row id; the ledger's finish
time in microseconds), which is what an entry's mark holds: the last event it ran for.
The ledger writes in batches a moment after a request ends, so its rows are read only
once they are ``settle`` seconds old: a row that lands late is not skipped.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from autogpt.errors import InvalidInputError, StoreError
from autogpt.logs import get_logger

log = get_logger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS finished (
    seq INTEGER PRIMARY KEY,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    ok INTEGER NOT NULL,
    at REAL NOT NULL,
    summary TEXT NOT NULL DEFAULT ''
);
"""
TASK_HINT = "ROLE or 'ROLE ACTION', e.g. 'backend' or 'backend task'"


@dataclass(frozen=True, slots=True)
class Finished:
    seq: int
    role: str
    action: str
    ok: bool
    at: float  # epoch seconds


def check_task(spec: str) -> str:
    """``spec`` normalised (``ROLE`` or ``ROLE ACTION``, lowercase), or InvalidInputError."""
    words = spec.lower().split()
    if not 1 <= len(words) <= 2 or not all(w.replace("-", "").replace("_", "").isalnum() for w in words):
        raise InvalidInputError(f"bad task trigger {spec!r}", hint=TASK_HINT)
    return " ".join(words)


class Events(ABC):
    """The finished tasks after a mark: the one seam between the scheduler and either source."""

    @abstractmethod
    def finished(self, spec: str, after: int, since: float, now: float) -> list[Finished]:
        """Tasks matching ``spec`` that finished after event ``after`` (0: at or after time
        ``since``) and that may be read at ``now``, oldest first."""


def record_finished(data_dir: Path, role: str, action: str, ok: bool, summary: str = "") -> bool:
    """Note that a task of ``role`` finished, when a schedule exists; a failure is logged,
    never raised (a task's result must not depend on the scheduler's file)."""
    path = Path(data_dir) / "schedule.db"
    if not path.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=2.0)) as db, db:
            db.executescript(SCHEMA)
            db.execute(
                "INSERT INTO finished (role, action, ok, at, summary) VALUES (?, ?, ?, ?, ?)",
                (role.lower(), action.lower(), int(ok), time.time(), summary[:200]),
            )
    except sqlite3.Error as exc:
        log.warning("finished_not_recorded", role=role, error=str(exc))
        return False
    return True


class LocalEvents(Events):
    """The ``finished`` table of the schedule file (standalone teams)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        conn.executescript(SCHEMA)

    def finished(self, spec: str, after: int, since: float, now: float) -> list[Finished]:
        role, _, action = spec.partition(" ")
        sql = "SELECT seq, role, action, ok, at FROM finished WHERE role = ? AND (? = '' OR action = ?)"
        sql += " AND seq > ? ORDER BY seq" if after else " AND at >= ? ORDER BY seq"
        rows = self.conn.execute(sql, (role, action, action, after or since)).fetchall()
        return [Finished(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]


class LedgerEvents(Events):
    """orchgpt's task ledger: requests to a role (or tasks for it) that ended done or failed."""

    def __init__(self, path: Path, settle: float = 5.0) -> None:
        self.path = Path(path)
        self.settle = settle

    def finished(self, spec: str, after: int, since: float, now: float) -> list[Finished]:
        role, _, action = spec.partition(" ")
        if not self.path.is_file():
            raise StoreError(f"no task ledger at {self.path}", hint="orchgpt serve writes it; pass --ledger PATH")
        sql = (
            "SELECT finished_us, what, state FROM tasks WHERE state IN ('done', 'failed') "
            "AND (recipient = ? OR what LIKE ? ESCAPE '\\') AND finished_us > ? AND finished_us <= ? "
            "ORDER BY finished_us"
        )
        floor = after or int(since * 1_000_000) - 1
        task = "task " + role.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ":%"
        try:
            with contextlib.closing(sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)) as db:
                rows = db.execute(sql, (f"role:{role}", task, floor, int((now - self.settle) * 1_000_000))).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the task ledger {self.path}: {exc}") from None
        found = []
        for finished_us, what, state in rows:
            verb = "task" if what.startswith("task ") else what.split(" ", 1)[0].lower()
            if not action or verb == action:
                found.append(Finished(int(finished_us), role, verb, state == "done", finished_us / 1e6))
        return found
