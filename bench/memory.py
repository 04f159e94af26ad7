"""Memory benchmark (not a test): ingest rate with real embeddings, recall latency at 100k items.

    python bench/memory.py [--items 100000] [--ingest 1000] [--queries 200]

Ingest embeds real sentences with all-MiniLM-L6-v2 and stores them (batches of 100).
The store is then filled to ``--items`` with random unit vectors (embedding 100k
sentences would measure the model again, not the store), and each recall is end to end:
embed the question, score every item, fetch the top 5 from SQLite.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from autogpt.memory.embedder import MiniLMEmbedder
from autogpt.memory.store import MemoryStore

WORDS = [
    "server",
    "port",
    "database",
    "cache",
    "user",
    "login",
    "token",
    "build",
    "test",
    "deploy",
    "frontend",
    "backend",
    "route",
    "page",
    "colour",
    "button",
    "error",
    "timeout",
    "retry",
    "lesson",
    "memory",
    "schedule",
    "cron",
    "file",
    "change",
    "commit",
    "branch",
    "api",
]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))) + "."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--ingest", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(7)
    embedder = MiniLMEmbedder()
    embedder.load()
    with tempfile.TemporaryDirectory() as tmp:
        store = MemoryStore(Path(tmp) / "bench.db", embedder)
        texts = [sentence(rng) for _ in range(args.ingest)]
        started = time.perf_counter()
        for i in range(0, len(texts), 100):
            store.add(texts[i : i + 100], "agent:bench")
        ingest_rate = len(texts) / (time.perf_counter() - started)
        print(f"ingest: {len(texts)} items embedded and stored at {ingest_rate:.0f} items/s")

        fill = args.items - len(texts)
        vectors_rng = np.random.default_rng(7)
        started = time.perf_counter()
        for i in range(0, fill, 10_000):
            n = min(10_000, fill - i)
            vectors = vectors_rng.normal(size=(n, embedder.dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            store.add_vectors([f"filler {i + j}" for j in range(n)], vectors, "shared")
        print(f"filled to {store.count()} items in {time.perf_counter() - started:.1f}s (vectors given)")

        store.search("warm up", ["agent:bench", "shared"])  # loads the matrix once
        timings = []
        for _ in range(args.queries):
            query = sentence(rng)
            started = time.perf_counter()
            store.search(query, ["agent:bench", "project:x", "shared"], k=5, min_score=-1)
            timings.append((time.perf_counter() - started) * 1000)
        p50 = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[18]
        print(f"recall over {store.count()} items (embed + score + fetch top 5): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        store.close()


if __name__ == "__main__":
    main()
