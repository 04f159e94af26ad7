"""The in-memory side of recall: one contiguous float32 matrix per namespace.

Why per namespace: a question names the namespaces it may draw on, so each one's rows are
scored with a single matrix-vector product over exactly those rows, with no mask over the
whole store. Why contiguous with room to grow: ingest appends rows in place (amortised
doubling, as a list does), so a write never makes the next recall rebuild anything.
Scores are exact cosines (the rows are unit vectors): the top ``k`` is the true top ``k``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from autogpt.memory.embedder import Vectors

Ids = npt.NDArray[np.int64]


class Space:
    """The vectors of one namespace and the item id of each row."""

    def __init__(self, dim: int) -> None:
        self.rows = 0
        self._ids: Ids = np.zeros(16, dtype=np.int64)
        self._matrix: Vectors = np.zeros((16, dim), dtype=np.float32)

    @property
    def ids(self) -> Ids:
        return self._ids[: self.rows]

    @property
    def matrix(self) -> Vectors:
        return self._matrix[: self.rows]

    def append(self, ids: Ids, vectors: Vectors) -> None:
        need = self.rows + len(ids)
        if need > len(self._ids):
            room = max(need, 2 * len(self._ids))
            grown_ids = np.zeros(room, dtype=np.int64)
            grown = np.zeros((room, self._matrix.shape[1]), dtype=np.float32)
            grown_ids[: self.rows] = self.ids
            grown[: self.rows] = self.matrix
            self._ids, self._matrix = grown_ids, grown
        self._ids[self.rows : need] = ids
        self._matrix[self.rows : need] = vectors
        self.rows = need

    def remove(self, ids: Iterable[int]) -> None:
        keep = ~np.isin(self.ids, np.fromiter(ids, dtype=np.int64))
        kept = int(keep.sum())
        if kept == self.rows:
            return
        self._ids[:kept] = self.ids[keep]
        self._matrix[:kept] = self.matrix[keep]
        self.rows = kept

    def top(self, vector: Vectors, k: int) -> tuple[Ids, Vectors]:
        """The ids and scores of this namespace's ``k`` best rows (unordered)."""
        scores: Vectors = self.matrix @ vector
        if k < self.rows:
            best = np.argpartition(scores, self.rows - k)[self.rows - k :]
            return self.ids[best], scores[best]
        return self.ids, scores


class Index:
    """Every namespace's :class:`Space`; rows in each stay in the order they were added."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.spaces: dict[str, Space] = {}

    def __len__(self) -> int:
        return sum(s.rows for s in self.spaces.values())

    def add(self, namespace: str, ids: Sequence[int], vectors: Vectors) -> None:
        if not len(ids):
            return
        space = self.spaces.get(namespace)
        if space is None:
            space = self.spaces[namespace] = Space(self.dim)
        space.append(np.asarray(ids, dtype=np.int64), np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim))

    def remove(self, ids: Sequence[int], namespace: str | None = None) -> None:
        for name, space in self.spaces.items():
            if namespace is None or name == namespace:
                space.remove(ids)

    def drop(self, namespace: str) -> None:
        self.spaces.pop(namespace, None)

    def search(self, vector: Vectors, namespaces: Sequence[str], k: int, min_score: float) -> list[tuple[int, float]]:
        """The ``k`` best ``(id, score)`` over ``namespaces``, best first, none under ``min_score``."""
        if k <= 0:
            return []
        found_ids: list[Ids] = []
        found_scores: list[Vectors] = []
        for name in dict.fromkeys(namespaces):
            space = self.spaces.get(name)
            if space is not None and space.rows:
                ids, scores = space.top(vector, k)
                found_ids.append(ids)
                found_scores.append(scores)
        if not found_ids:
            return []
        ids, scores = np.concatenate(found_ids), np.concatenate(found_scores)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(ids[i]), float(scores[i])) for i in order if scores[i] >= min_score]
