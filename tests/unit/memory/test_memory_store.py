"""The memory store: namespaces, recall by meaning, forgetting, and faults that lose nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from autogpt.errors import InvalidInputError, StoreBusyError, StoreError
from autogpt.llm.base import Message
from autogpt.memory.embedder import HashEmbedder
from autogpt.memory.recall import AgentMemory
from autogpt.memory.store import MemoryStore


def store(path: Path, **kw: float) -> MemoryStore:
    return MemoryStore(path, HashEmbedder(), **kw)


def test_recall_finds_by_words_within_namespaces(tmp_path: Path) -> None:
    s = store(tmp_path / "m.db")
    s.add(["the backend listens on port 8080", "users like teal buttons"], "agent:backend")
    s.add(["the shop project uses sqlite"], "project:shop")
    hits = s.search("which port does the backend listen on", ["agent:backend"], k=2)
    assert hits[0].text == "the backend listens on port 8080"
    assert s.search("which port does the backend listen on", ["agent:frontend"], k=2) == []
    assert [m.text for m in s.search("sqlite in the shop", ["project:shop", "shared"], k=3)] == [
        "the shop project uses sqlite"
    ]


def test_another_connection_sees_new_items(tmp_path: Path) -> None:
    a, b = store(tmp_path / "m.db"), store(tmp_path / "m.db")
    assert b.search("port 8080", ["shared"]) == []
    a.add(["port 8080 is the api"], "shared")
    assert [m.text for m in b.search("port 8080", ["shared"])] == ["port 8080 is the api"]


def test_agent_memory_block_fits_the_budget_and_forget_drops(tmp_path: Path) -> None:
    mem = AgentMemory(store(tmp_path / "m.db"), "generic", project="Shop App")
    first = mem.remember("my favourite colour is teal")
    mem.remember("the deploy target is fly.io", "project")
    assert mem.namespace("project") == "project:shop-app"
    out = mem.into([Message.system("persona"), Message.user("what is my favourite colour?")], 8192, 1024)
    assert "teal" in out[0].content
    assert out[1].content == "what is my favourite colour?"
    assert mem.block("what is my favourite colour?", budget_tokens=10) == ""
    assert [m.id for m in mem.forget(f"#{first}")] == [first]
    assert mem.recall("favourite colour") == []
    with pytest.raises(InvalidInputError):
        mem.remember("   ")


def test_a_corrupt_store_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="corrupt") as caught:
        store(path)
    assert "\n" not in str(caught.value)
    assert path.read_bytes().startswith(b"this is not a database")


def test_a_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE accounts (id INTEGER)")
    conn.close()
    with pytest.raises(StoreError, match="not a memory store"):
        store(path)


def test_a_locked_store_refuses_the_write_and_keeps_what_it_had(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    s = store(path, busy_timeout=0.05)
    s.add(["the api key lives in the vault"], "shared")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusyError, match="nothing new was stored"):
            s.add(["a second fact"], "shared")
        assert [m.text for m in s.search("api key vault", ["shared"])] == ["the api key lives in the vault"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    s.add(["a second fact"], "shared")
    assert s.count("shared") == 2


def test_vectors_of_another_embedder_are_rebuilt_from_text(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    store(path).add(["the cache is redis"], "shared")
    rebuilt = MemoryStore(path, HashEmbedder(dim=64))
    assert rebuilt.rebuilt == 1
    assert [m.text for m in rebuilt.search("redis cache", ["shared"])] == ["the cache is redis"]


def test_exact_top_k_over_random_vectors(tmp_path: Path) -> None:
    s = store(tmp_path / "m.db")
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(500, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = s.add_vectors([f"item {i}" for i in range(500)], vectors, "shared")
    hits = s.search_vector(vectors[42], ["shared"], k=3)
    assert hits[0].id == ids[42]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert len(hits) == 3
    assert hits[0].score >= hits[1].score >= hits[2].score


def _brute(vectors: dict[int, tuple[str, np.ndarray]], query: np.ndarray, spaces: list[str], k: int) -> list[int]:
    scored = [(float(v @ query), i) for i, (ns, v) in vectors.items() if ns in spaces]
    return [i for _, i in sorted(scored, key=lambda p: (-p[0], p[1]))[:k]]


def test_recall_matches_brute_force_through_appends_forgets_and_other_writers(tmp_path: Path) -> None:
    """The in-memory index answers as a scan of every stored row would, at each step."""
    s, other = store(tmp_path / "m.db"), store(tmp_path / "m.db")
    rng = np.random.default_rng(3)
    spaces = ["agent:a", "project:p", "shared"]
    held: dict[int, tuple[str, np.ndarray]] = {}

    def put(target: MemoryStore, n: int) -> None:
        vectors = rng.normal(size=(n, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ns = spaces[int(rng.integers(3))]
        for i, v in zip(target.add_vectors([f"t{j}" for j in range(n)], vectors, ns), vectors, strict=True):
            held[i] = (ns, v)

    def check() -> None:
        for _ in range(20):
            query = rng.normal(size=384).astype(np.float32)
            query /= np.linalg.norm(query)
            wanted = [spaces[0], spaces[2]] if rng.integers(2) else spaces
            got = [m.id for m in s.search_vector(query, wanted, k=7)]
            assert got == _brute(held, query, wanted, 7)

    for _ in range(6):
        put(s, 50)
    check()  # loads the index
    for _ in range(3):
        put(s, 40)  # appended in place
    check()
    gone = list(held)[::5]
    assert s.forget(gone) == len(gone)
    for i in gone:
        del held[i]
    check()
    put(other, 60)  # another connection: the index reloads
    check()
    s.forget(namespace="project:p")
    held = {i: p for i, p in held.items() if p[0] != "project:p"}
    check()
    assert s.count() == len(held)
    assert s.search_vector(held[next(iter(held))][1], spaces, k=0) == []
