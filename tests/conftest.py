"""Suite-wide rules: no test reaches a live LLM service, and none needs a real home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autogpt.llm import guard


@pytest.fixture(autouse=True)
def _no_remote_llm() -> Iterator[None]:
    """Providers refuse any non-loopback endpoint for the whole test."""
    guard.block_remote_requests(True)
    yield
    guard.block_remote_requests(True)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keys and settings from the developer's shell never leak into a test."""
    for name in (
        *("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "GEMINI_API_KEY", "XAI_API_KEY", "AI_PROVIDER"),
        *("OPENAI_MODEL", "ANTHROPIC_MODEL", "GEMINI_MODEL", "XAI_MODEL", "ORCHESTRATOR_ADDRESS"),
    ):
        monkeypatch.delenv(name, raising=False)
    import os

    for name in list(os.environ):
        if name.startswith("AUTOGPT_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))  # git's folders of workspaces, histories
    # memory's lexical embedder: every console and build subprocess would otherwise load the
    # ONNX model (0.8 s, 260 MB each); tests/unit/memory/test_minilm.py covers the real one
    monkeypatch.setenv("AUTOGPT_EMBEDDER", "hash")
    monkeypatch.chdir(tmp_path)
