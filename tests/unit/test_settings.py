from __future__ import annotations

import re
from pathlib import Path

import pytest

from autogpt.config import Settings, load_settings
from autogpt.errors import ConfigError

README = Path(__file__).resolve().parents[2] / "README.md"


def _env_name(name: str) -> str:
    field = Settings.model_fields[name]
    alias = field.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return str(choices[0])
    return f"AUTOGPT_{name.upper()}"


def test_every_setting_is_documented_in_the_readme_table() -> None:
    table = README.read_text(encoding="utf-8").split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)`", table, flags=re.MULTILINE))
    expected = {_env_name(name) for name in Settings.model_fields}
    assert documented == expected


def test_auto_provider_follows_the_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().resolved_provider() == "embedded"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    assert load_settings().resolved_provider() == "anthropic"
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    assert load_settings().resolved_provider() == "openai"
    assert load_settings(provider="embedded").resolved_provider() == "embedded"


def test_env_and_dotenv_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("AUTOGPT_MAX_TOKENS=77\nAUTOGPT_MODEL=from-dotenv\n")
    monkeypatch.setenv("AUTOGPT_MODEL", "from-env")
    settings = load_settings()
    assert settings.max_tokens == 77
    assert settings.model == "from-env"  # the environment wins over .env
    assert load_settings(model="from-flag").model == "from-flag"


def test_invalid_settings_are_one_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOGPT_TEMPERATURE", "hot")
    monkeypatch.setenv("AUTOGPT_PROVIDER", "bogus")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "temperature" in str(caught.value)
    assert "provider" in str(caught.value)


def test_every_orchgpt_setting_is_documented() -> None:
    from orchgpt.config import OrchSettings

    table = README.read_text(encoding="utf-8").split("| orchgpt setting |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"^\| `(ORCHGPT_[A-Z_]+)`", table, flags=re.MULTILINE))
    assert documented == {f"ORCHGPT_{name.upper()}" for name in OrchSettings.model_fields}
