"""Long-term memory on disk: one SQLite file, vectors beside their text, exact cosine search.

Why exact search in numpy rather than an index: at the sizes one user's agents reach
(10^5 items of 384 float32) a matrix-vector product takes milliseconds, finds the true
top k, and needs no index to rebuild or corrupt. The matrix is cached in memory and
refreshed only when SQLite's ``data_version`` says another connection wrote.

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
        self._version = -1
        self._ids = np.zeros(0, dtype=np.int64)
        self._spaces = np.zeros(0, dtype=np.int32)
        self._space_codes: dict[str, int] = {}
        self._matrix: Vectors = np.zeros((0, embedder.dim), dtype=np.float32)
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
        now = time.time()
        blob = json.dumps(meta or {})
        ids: list[int] = []
        with self._write() as conn:
            for text, vector in zip(texts, vectors, strict=True):
                cur = conn.execute(
                    "INSERT INTO items (namespace, kind, text, created, meta, vector) VALUES (?, ?, ?, ?, ?, ?)",
                    (namespace, kind, text, now, blob, np.asarray(vector, dtype=np.float32).tobytes()),
                )
                ids.append(int(cur.lastrowid or 0))
        return ids

    def forget(self, ids: Sequence[int] = (), *, namespace: str | None = None) -> int:
        """Delete items by id (within ``namespace`` when given), or a whole namespace; how many."""
        with self._write() as conn:
            if ids:
                marks = ",".join("?" * len(ids))
                sql = f"DELETE FROM items WHERE id IN ({marks})"  # noqa: S608 - only '?' marks
                args: list[int | str] = list(ids)
                if namespace is not None:
                    sql, args = sql + " AND namespace = ?", [*args, namespace]
                return conn.execute(sql, args).rowcount
            if namespace is not None:
                return conn.execute("DELETE FROM items WHERE namespace = ?", (namespace,)).rowcount
        return 0

    # -- reading ---------------------------------------------------------------------------

    def _refresh(self) -> None:
        version = self._conn.execute("PRAGMA data_version").fetchone()[0] + self._local_writes
        if version == self._version:
            return
        rows = self._conn.execute("SELECT id, namespace, vector FROM items ORDER BY id").fetchall()
        dim = self.embedder.dim
        matrix = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(len(rows), dim)
        self._space_codes = {}
        spaces = [self._space_codes.setdefault(r[1], len(self._space_codes)) for r in rows]
        self._ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        self._spaces = np.asarray(spaces, dtype=np.int32)
        self._matrix = matrix
        self._version = version

    _local_writes = 0

    def search(self, query: str, namespaces: Sequence[str], k: int = 5, min_score: float | None = None) -> list[Memory]:
        """The ``k`` items of ``namespaces`` closest in meaning to ``query``, best first."""
        if k <= 0 or not query.strip():
            return []
        vector = self.embedder.embed([query])[0]
        return self.search_vector(vector, namespaces, k, self.embedder.min_score if min_score is None else min_score)

    def search_vector(
        self, vector: Vectors, namespaces: Sequence[str], k: int, min_score: float = -1.0
    ) -> list[Memory]:
        with self._lock:
            self._refresh()
            codes = [self._space_codes[n] for n in namespaces if n in self._space_codes]
            if not codes or not len(self._ids):
                return []
            scores = self._matrix @ vector
            if len(codes) < len(self._space_codes):
                scores = np.where(np.isin(self._spaces, codes), scores, -2.0)
            k = min(k, len(scores))
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top])]
            hits = {int(self._ids[i]): float(scores[i]) for i in top if scores[i] >= min_score}
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
                self.store._local_writes += 1  # data_version counts only other connections' writes
            else:
                self.store._conn.execute("ROLLBACK")
        except sqlite3.OperationalError as err:
            if exc_type is None:
                self.store._conn.execute("ROLLBACK")
                raise StoreBusyError(f"memory store {self.store.path} is locked; nothing new was stored") from err
        finally:
            self.store._lock.release()
