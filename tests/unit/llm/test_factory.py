from __future__ import annotations

import json
from pathlib import Path

import pytest

from autogpt.config import load_settings
from autogpt.errors import ConfigError
from autogpt.llm.doubles import ScriptedLLM
from autogpt.llm.factory import make_llm


def test_scripted_provider_replays_its_file(tmp_path: Path) -> None:
    script = tmp_path / "s.json"
    script.write_text(json.dumps(["one", "two"]))
    llm = make_llm(load_settings(provider="scripted", script=script))
    assert isinstance(llm, ScriptedLLM)
    assert llm.remaining == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), ("{not json", "cannot read"), (json.dumps({"a": 1}), "JSON list of strings")],
)
def test_bad_scripts_are_config_errors(tmp_path: Path, content: str | None, message: str) -> None:
    script = tmp_path / "s.json"
    if content is not None:
        script.write_text(content)
    with pytest.raises(ConfigError, match=message):
        make_llm(load_settings(provider="scripted", script=script))
    with pytest.raises(ConfigError, match="needs a script"):
        make_llm(load_settings(provider="scripted"))


def test_keys_pick_remote_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert make_llm(load_settings()).provider == "openai"
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    llm = make_llm(load_settings())
    assert (llm.provider, llm.model) == ("anthropic", llm.model)
    assert llm.model


def test_embedded_is_the_default_without_keys() -> None:
    llm = make_llm(load_settings())
    assert (llm.provider, llm.model) == ("embedded", "qwen2.5-coder-0.5b")


def test_the_script_may_be_given_inline() -> None:
    llm = make_llm(load_settings(provider="scripted", script=' ["first", {"text": "second"}]'))
    assert isinstance(llm, ScriptedLLM)


def test_a_malformed_inline_script_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="cannot read the LLM script AUTOGPT_SCRIPT"):
        make_llm(load_settings(provider="scripted", script="[not json"))
