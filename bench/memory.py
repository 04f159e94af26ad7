"""Memory benchmark (not a test): ingest rate with real embeddings, recall latency at 100k items.

    python bench/memory.py [--items 100000] [--ingest 1000] [--queries 200] [--batch 256]

Ingest embeds real sentences with all-MiniLM-L6-v2 (int8 ONNX, one onnxruntime thread unless ``--threads``)
and stores them, ``--batch`` texts per call (one transaction each); the same texts are
then ingested with the hash embedder, which shows what the store itself costs. The
store is filled to ``--items`` with random unit vectors (embedding 100k sentences would
measure the model again, not the store), and each recall is end to end: embed the
question with MiniLM, score every item of the namespaces asked, fetch the top 5 from
SQLite; the scoring alone (a given vector) is timed too, and so are a recall within one
small namespace and a recall right after a write (as an agent remembers, then asks). Each figure is wall time and
this process's CPU time: the load average is printed beside them, and on a shared
machine it moves wall time more than any code change, while CPU time stays near what a
quiet machine's wall time would be.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from autogpt.memory.embedder import Embedder, HashEmbedder, MiniLMEmbedder
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


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def percentiles(timings: list[float]) -> str:
    return f"p50 {statistics.median(timings):.1f} ms, p95 {statistics.quantiles(timings, n=20)[18]:.1f} ms"


class Timer:
    """Wall and CPU milliseconds of what runs inside ``with``."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = (time.perf_counter() - self.wall) * 1000
        self.cpu = (time.process_time() - self.cpu) * 1000


def ingest(folder: Path, embedder: Embedder, texts: list[str], batch: int) -> str:
    store = MemoryStore(folder / f"ingest-{embedder.name}.db", embedder)
    with Timer() as timer:
        for i in range(0, len(texts), batch):
            store.add(texts[i : i + batch], "agent:bench")
    store.close()
    return f"{len(texts) * 1000 / timer.wall:.0f} items/s wall, {len(texts) * 1000 / timer.cpu:.0f} items/s of CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--ingest", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=256, help="texts per store.add call")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads for MiniLM (the product uses 1)")
    args = parser.parse_args()
    rng = random.Random(7)
    embedder = MiniLMEmbedder(threads=args.threads)
    embedder.load()
    embedder.embed(["warm up"])
    print(load())
    with tempfile.TemporaryDirectory() as tmp:
        texts = [sentence(rng) for _ in range(args.ingest)]
        rate = ingest(Path(tmp), embedder, texts, args.batch)
        print(f"ingest (MiniLM int8, batches of {args.batch}): {len(texts)} items, {rate}")
        rate = ingest(Path(tmp), HashEmbedder(), texts, args.batch)
        print(f"ingest (hash embedder, batches of {args.batch}): {len(texts)} items, {rate}")

        store = MemoryStore(Path(tmp) / "bench.db", embedder)
        store.add(texts, "agent:bench")
        fill = args.items - len(texts)
        vectors_rng = np.random.default_rng(7)
        started = time.perf_counter()
        for i in range(0, fill, 10_000):
            n = min(10_000, fill - i)
            vectors = vectors_rng.normal(size=(n, embedder.dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            store.add_vectors([f"filler {i + j}" for j in range(n)], vectors, "shared")
        print(f"filled to {store.count()} items in {time.perf_counter() - started:.1f}s (vectors given)")

        spaces = ["agent:bench", "project:x", "shared"]
        store.search("warm up", spaces)  # loads the index once
        timed: dict[str, list[Timer]] = {"embed + score + fetch top 5": [], "score + fetch top 5, vector given": []}
        for _ in range(args.queries):
            query = sentence(rng)
            with Timer() as timer:
                store.search(query, spaces, k=5, min_score=-1)
            timed["embed + score + fetch top 5"].append(timer)
            vector = vectors_rng.normal(size=embedder.dim).astype(np.float32)
            vector /= np.linalg.norm(vector)
            with Timer() as timer:
                store.search_vector(vector, spaces, k=5)
            timed["score + fetch top 5, vector given"].append(timer)
        for _ in range(min(args.queries, 50)):
            vector = vectors_rng.normal(size=embedder.dim).astype(np.float32)
            vector /= np.linalg.norm(vector)
            with Timer() as timer:
                store.search_vector(vector, ["agent:bench"], k=5)
            timed.setdefault(f"one namespace of {len(texts)}, vector given", []).append(timer)
        for i in range(min(args.queries, 20)):
            store.add([f"a new fact number {i}"], "agent:bench")
            with Timer() as timer:
                store.search("the newest fact", spaces, k=5, min_score=-1)
            timed.setdefault("end to end, right after a remember", []).append(timer)
        count = store.count()
        for what, timers in timed.items():
            wall, cpu = percentiles([t.wall for t in timers]), percentiles([t.cpu for t in timers])
            print(f"recall over {count} items ({what}): wall {wall}; CPU {cpu}")
        store.close()
    print(load())


if __name__ == "__main__":
    main()
