"""The real offline embedder: meaning, not shared words, finds a memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autogpt.memory.embedder import MiniLMEmbedder
from autogpt.memory.store import MemoryStore

FACTS = [
    "The staging database password lives in the team vault.",
    "Lunch on Fridays is pizza from the corner shop.",
    "Our API rate limit is 100 requests per minute per key.",
    "The office plants are watered every Tuesday.",
]


def test_minilm_vectors_are_unit_length_and_close_for_paraphrases() -> None:
    embedder = MiniLMEmbedder()
    vectors = embedder.embed(["where is the db secret kept?", FACTS[0], FACTS[1]])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.1


def test_recall_by_meaning_with_the_real_model(tmp_path: Path) -> None:
    store = MemoryStore(tmp_path / "memory.db", MiniLMEmbedder())
    store.add(FACTS, namespace="shared")
    found = store.search("how many calls may a client make each minute?", ["shared"], k=1)
    assert [m.text for m in found] == [FACTS[2]]


def test_a_batch_sorted_by_length_comes_back_in_the_order_given() -> None:
    """Texts are embedded longest-with-longest; each row must still be its own text's."""
    embedder = MiniLMEmbedder()
    texts = [FACTS[1], "port", FACTS[2] + " " + FACTS[3], FACTS[0], "a much longer sentence " * 5]
    together = embedder.embed(texts)
    alone = np.concatenate([embedder.embed([t]) for t in texts])
    assert np.allclose(together, alone, atol=2e-3)
