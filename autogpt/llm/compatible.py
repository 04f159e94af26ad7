"""Gemini and xAI through their OpenAI-compatible endpoints, with the official ``openai`` SDK.

Both vendors speak the chat-completions dialect (streaming and JSON-schema output
included), so each is :class:`~autogpt.llm.openai.OpenAILLM` with its own endpoint, key
and default model. ``AUTOGPT_BASE_URL`` still overrides the endpoint (a proxy, or a test's
local fake server).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

from autogpt.config import Settings
from autogpt.errors import ConfigError
from autogpt.llm.openai import OpenAILLM


class _Compatible(OpenAILLM):
    endpoint: ClassVar[str]
    default_model: ClassVar[str]
    key_setting: ClassVar[str]
    context: ClassVar[int] = 128_000

    @classmethod
    def _key(cls, settings: Settings) -> SecretStr | None:
        raise NotImplementedError

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAILLM:
        key = cls._key(settings)
        if key is None or not key.get_secret_value():
            raise ConfigError(f"the {cls.provider} provider needs an API key", hint=cls.key_hint)
        return cls(
            api_key=key.get_secret_value(),
            model=settings.model or cls.default_model,
            base_url=settings.base_url or cls.endpoint,
            timeout=settings.request_timeout,
            max_retries=settings.max_retries,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            context_window=cls.context,
        )


class GeminiLLM(_Compatible):
    """Google Gemini (https://ai.google.dev/gemini-api/docs/openai)."""

    provider = "gemini"
    endpoint = "https://generativelanguage.googleapis.com/v1beta/openai/"
    default_model = "gemini-2.5-flash"
    key_hint = "set GEMINI_API_KEY (a key from Google AI Studio)"
    context = 1_000_000

    @classmethod
    def _key(cls, settings: Settings) -> SecretStr | None:
        return settings.gemini_api_key


class XaiLLM(_Compatible):
    """xAI Grok (https://docs.x.ai/docs/api-reference)."""

    provider = "xai"
    endpoint = "https://api.x.ai/v1"
    default_model = "grok-3-mini"
    key_hint = "set XAI_API_KEY (a key from console.x.ai)"
    context = 131_072

    @classmethod
    def _key(cls, settings: Settings) -> SecretStr | None:
        return settings.xai_api_key
