"""Pick and build the configured provider; provider modules are imported only when used."""

from __future__ import annotations

import json
from pathlib import Path

from autogpt.config import PROVIDERS, Settings
from autogpt.errors import ConfigError
from autogpt.llm.base import LLM
from autogpt.llm.doubles import ScriptedLLM, SlowReply


def make_llm(settings: Settings) -> LLM:
    """The LLM ``settings`` ask for (``auto``: a key picks openai/anthropic/gemini/xai, else embedded)."""
    name = settings.resolved_provider()
    if name == "embedded":
        from autogpt.llm.embedded import EmbeddedLLM

        return EmbeddedLLM.from_settings(settings)
    if name == "openai":
        from autogpt.llm.openai import OpenAILLM

        return OpenAILLM.from_settings(settings)
    if name == "anthropic":
        from autogpt.llm.anthropic import AnthropicLLM

        return AnthropicLLM.from_settings(settings)
    if name in ("gemini", "xai"):
        from autogpt.llm.compatible import GeminiLLM, XaiLLM

        return (GeminiLLM if name == "gemini" else XaiLLM).from_settings(settings)
    if name == "scripted":
        return _scripted(settings)
    raise ConfigError(f"unknown provider {name!r}", hint=f"choose one of: {', '.join(PROVIDERS)}")


def _scripted(settings: Settings) -> LLM:
    """The replay double, fed from a JSON list of replies: lets whole programs run scripted."""
    if settings.script is None:
        raise ConfigError(
            "the scripted provider needs a script", hint="set AUTOGPT_SCRIPT to a JSON file, or to a JSON list inline"
        )
    inline = settings.script.lstrip().startswith("[")
    where = "AUTOGPT_SCRIPT" if inline else settings.script
    try:
        text = settings.script if inline else Path(settings.script).read_text(encoding="utf-8")
        replies = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the LLM script {where}: {exc}") from None
    if not isinstance(replies, list):
        raise ConfigError(f"{where} must hold a JSON list of strings")
    script: list[str | SlowReply] = []
    for reply in replies:
        if isinstance(reply, str):
            script.append(reply)
        elif isinstance(reply, dict) and isinstance(reply.get("text"), str):
            script.append(SlowReply(reply["text"], float(reply.get("delay", 0))))
        else:
            raise ConfigError(f"{where} must hold a JSON list of strings (or {{'text': ..., 'delay': seconds}})")
    return ScriptedLLM(script, model=settings.model or "scripted")
