"""Long-term memory on disk: one SQLite file, vectors beside their text, exact cosine search.

Why exact search in numpy rather than an approximate index: at the sizes one user's agents
reach (10^5 items of 384 float32) a matrix-vector product takes milliseconds, finds the
true top k, and needs no index to rebuild or corrupt. The vectors are held in memory, one
matrix per namespace (:mod:`autogpt.memory.index`): this connection's own writes update it
in place, and it is reloaded only when SQLite's ``data_version`` says another connection
wrote.

Faults are loud and never destructive: a file that is not a memory store, or fails
SQLite's check, is refused with one line naming it (nothing is deleted); a store whose
vectors came from another embedder is re-embedded from its text on open; a write that
finds the file locked past the busy timeout raises :class:`StoreBusyError`, and
everything committed before it stays (WAL journal, one transaction per write).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autogpt.errors import InvalidInputError, StoreBusyError, StoreError
from autogpt.memory.embedder import Embedder, Vectors
from autogpt.memory.index import Index

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'note',
    text TEXT NOT NULL,
    created REAL NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS items_namespace ON items (namespace);
"""


@dataclass(frozen=True, slots=True)
class Memory:
    id: int
    namespace: str
    kind: str
    text: str
    created: float
    score: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


class MemoryStore:
    """Items in namespaces (``agent:generic``, ``project:shop``, ``shared``), searchable by meaning."""

    def __init__(self, path: Path, embedder: Embedder, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.embedder = embedder
        self._lock = threading.RLock()
        self._conn = self._open(busy_timeout)
        self._version = -1  # data_version when the index was loaded; -1: not loaded
        self._index = Index(embedder.dim)
        self.rebuilt = self._check_embedder()

    # -- opening ---------------------------------------------------------------------------

    def _open(self, busy_timeout: float) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of memory store {self.path}: {exc.strerror}") from None
        try:
            conn = sqlite3.connect(self.path, timeout=busy_timeout, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise sqlite3.DatabaseError(ok)
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if tables and not {"meta", "items"} <= tables:
                raise StoreError(
                    f"{self.path} is an SQLite file but not a memory store (tables: {', '.join(sorted(tables))})",
                    hint="point AUTOGPT_MEMORY at another file",
                )
            conn.executescript(_SCHEMA)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise StoreBusyError(f"memory store {self.path} is locked by another process") from None
            raise StoreError(f"cannot open memory store {self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"memory store {self.path} is corrupt ({exc}); it was left untouched",
                hint="move it aside to start a new one, or point AUTOGPT_MEMORY at another file",
            ) from None
        return conn

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _check_embedder(self) -> int:
        """Re-embed every item when the store's vectors come from another embedder; how many."""
        stamp = f"{self.embedder.name}/{self.embedder.dim}"
        if self._meta("embedder") == stamp:
            return 0
        rows = self._conn.execute("SELECT id, text FROM items ORDER BY id").fetchall()
        with self._write() as conn:
            for start in range(0, len(rows), 256):
                chunk = rows[start : start + 256]
                vectors = self.embedder.embed([text for _, text in chunk])
                conn.executemany(
                    "UPDATE items SET vector = ? WHERE id = ?",
                    [(v.tobytes(), row_id) for v, (row_id, _) in zip(vectors, chunk, strict=True)],
                )
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('embedder', ?)", (stamp,))
        return len(rows)

    # -- writing ---------------------------------------------------------------------------

    def _write(self) -> _Transaction:
        return _Transaction(self)

    def add(
        self, texts: Sequence[str], namespace: str, kind: str = "note", meta: dict[str, Any] | None = None
    ) -> list[int]:
        """Store ``texts`` (embedded here, in batches); their ids."""
        clean = [t.strip() for t in texts]
        if not all(clean):
            raise InvalidInputError("there is nothing to remember: the text is empty")
        return self.add_vectors(clean, self.embedder.embed(clean), namespace, kind, meta)

    def add_vectors(
        self,
        texts: Sequence[str],
        vectors: Vectors,
        namespace: str,
        kind: str = "note",
        meta: dict[str, Any] | None = None,
    ) -> list[int]:
        """Store texts whose vectors are already known (bulk loads, benchmarks)."""
        if not namespace:
            raise InvalidInputError("a memory needs a namespace")
        rows = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.embedder.dim)
        now = time.time()
        blob = json.dumps(meta or {})
        with self._lock:  # held until the index has the rows too: a search never sees half
            with self._write() as conn:
                # Ids are given, not read back row by row: under BEGIN IMMEDIATE nobody else
                # writes, so the next free ids are known and one executemany stores them all.
                first = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM items").fetchone()[0])
                ids = list(range(first, first + len(texts)))
                conn.executemany(
                    "INSERT INTO items (id, namespace, kind, text, created, meta, vector) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(i, namespace, kind, t, now, blob, v.tobytes()) for i, t, v in zip(ids, texts, rows, strict=True)],
                )
            if self._version != -1:
                self._index.add(namespace, ids, rows)
        return ids

    def forget(self, ids: Sequence[int] = (), *, namespace: str | None = None) -> int:
        """Delete items by id (within ``namespace`` when given), or a whole namespace; how many."""
        with self._lock:
            with self._write() as conn:
                if ids:
                    marks = ",".join("?" * len(ids))
                    sql = f"DELETE FROM items WHERE id IN ({marks})"  # noqa: S608 - only '?' marks
                    args: list[int | str] = list(ids)
                    if namespace is not None:
                        sql, args = sql + " AND namespace = ?", [*args, namespace]
                    gone = conn.execute(sql, args).rowcount
                elif namespace is not None:
                    gone = conn.execute("DELETE FROM items WHERE namespace = ?", (namespace,)).rowcount
                else:
                    return 0
            if ids:
                self._index.remove(ids, namespace)
            elif namespace is not None:
                self._index.drop(namespace)
            return int(gone)

    # -- reading ---------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Load the index on first use, and again after another connection wrote."""
        version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        if version == self._version:
            return
        index = Index(self.embedder.dim)
        rows = self._conn.execute("SELECT id, namespace, vector FROM items ORDER BY namespace, id").fetchall()
        start = 0
        for end in range(1, len(rows) + 1):
            if end == len(rows) or rows[end][1] != rows[start][1]:
                chunk = rows[start:end]
                vectors = np.frombuffer(b"".join(r[2] for r in chunk), dtype=np.float32)
                index.add(chunk[0][1], [r[0] for r in chunk], vectors.reshape(len(chunk), self.embedder.dim))
                start = end
        self._index = index
        self._version = version

    def search(self, query: str, namespaces: Sequence[str], k: int = 5, min_score: float | None = None) -> list[Memory]:
        """The ``k`` items of ``namespaces`` closest in meaning to ``query``, best first."""
        if k <= 0 or not query.strip():
            return []
        vector = self.embedder.embed([query])[0]
        return self.search_vector(vector, namespaces, k, self.embedder.min_score if min_score is None else min_score)

    def search_vector(
        self, vector: Vectors, namespaces: Sequence[str], k: int, min_score: float = -1.0
    ) -> list[Memory]:
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(self.embedder.dim)
        with self._lock:
            self._refresh()
            hits = dict(self._index.search(query, namespaces, k, min_score))
        return sorted(self.get(list(hits), hits), key=lambda m: -m.score)

    def get(self, ids: Sequence[int], scores: dict[int, float] | None = None) -> list[Memory]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self._conn.execute(
            f"SELECT id, namespace, kind, text, created, meta FROM items WHERE id IN ({marks})",  # noqa: S608
            list(ids),
        ).fetchall()
        scores = scores or {}
        return [Memory(r[0], r[1], r[2], r[3], r[4], scores.get(r[0], 0.0), json.loads(r[5])) for r in rows]

    def recent(self, namespaces: Sequence[str], limit: int = 20) -> list[Memory]:
        marks = ",".join("?" * len(namespaces))
        rows = self._conn.execute(
            f"SELECT id FROM items WHERE namespace IN ({marks}) ORDER BY id DESC LIMIT ?",  # noqa: S608
            [*namespaces, limit],
        ).fetchall()
        return sorted(self.get([r[0] for r in rows]), key=lambda m: -m.id)

    def count(self, namespace: str | None = None) -> int:
        if namespace is None:
            return int(self._conn.execute("SELECT count(*) FROM items").fetchone()[0])
        return int(self._conn.execute("SELECT count(*) FROM items WHERE namespace = ?", (namespace,)).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _Transaction:
    """One write: BEGIN IMMEDIATE (so a lock shows at once, not mid-way), commit or roll back."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        self.store._lock.acquire()
        try:
            self.store._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            self.store._lock.release()
            if _is_busy(exc):
                raise StoreBusyError(
                    f"memory store {self.store.path} stayed locked by another process; nothing new was stored",
                    hint="what it already held is intact; try again when the other writer is done",
                ) from None
            raise StoreError(f"memory store {self.store.path}: {exc}") from None
        return self.store._conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self.store._conn.execute("COMMIT")
            else:
                self.store._conn.execute("ROLLBACK")
        except sqlite3.OperationalError as err:
            if exc_type is None:
                self.store._conn.execute("ROLLBACK")
                raise StoreBusyError(f"memory store {self.store.path} is locked; nothing new was stored") from err
        finally:
            self.store._lock.release()
