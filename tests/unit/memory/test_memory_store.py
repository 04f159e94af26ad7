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
