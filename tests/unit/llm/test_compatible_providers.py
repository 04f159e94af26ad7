"""Gemini and xAI through the openai SDK, against a real local server; the original's env names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.llm_server import FakeLLMServer, json_reply, openai_completion, openai_error

from autogpt.config import load_settings
from autogpt.errors import ConfigError, ProviderAuthError
from autogpt.llm.base import Message
from autogpt.llm.compatible import GeminiLLM, XaiLLM
from autogpt.llm.factory import make_llm


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake


@pytest.mark.parametrize(
    ("provider", "key_env", "cls", "model"),
    [("gemini", "GEMINI_API_KEY", GeminiLLM, "gemini-2.5-flash"), ("xai", "XAI_API_KEY", XaiLLM, "grok-3-mini")],
)
async def test_a_key_alone_picks_the_provider_and_its_default_model(
    server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, provider: str, key_env: str, cls: type, model: str
) -> None:
    monkeypatch.setenv(key_env, "k-123")
    assert load_settings().resolved_provider() == provider
    monkeypatch.setenv("AUTOGPT_PROVIDER", provider)  # base_url alone would pick openai under auto
    llm = make_llm(load_settings(base_url=f"{server.url}/v1"))
    assert isinstance(llm, cls)
    assert (llm.provider, llm.model) == (provider, model)
    server.script(json_reply(openai_completion("hi from " + provider)))
    try:
        completion = await llm.complete([Message.user("hello")])
    finally:
        await llm.aclose()
    assert completion.text == f"hi from {provider}"
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer k-123"
    assert request.body["model"] == model


def test_default_endpoints_are_the_vendors_openai_compatible_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "g")
    monkeypatch.setenv("XAI_API_KEY", "x")
    gemini = make_llm(load_settings(provider="gemini"))
    xai = make_llm(load_settings(provider="xai"))
    assert gemini._endpoint == "https://generativelanguage.googleapis.com/v1beta/openai/"  # type: ignore[attr-defined]
    assert xai._endpoint == "https://api.x.ai/v1/"  # type: ignore[attr-defined]


async def test_the_guard_refuses_the_real_endpoint_in_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "g")
    llm = make_llm(load_settings())
    with pytest.raises(ConfigError, match="remote LLM requests are blocked"):
        await llm.complete([Message.user("hello")])
    await llm.aclose()


def test_a_missing_key_is_a_clear_config_error() -> None:
    with pytest.raises(ConfigError, match="the xai provider needs an API key") as caught:
        make_llm(load_settings(provider="xai"))
    assert "XAI_API_KEY" in (caught.value.hint or "")


async def test_a_refused_key_names_the_provider_and_its_variable(
    server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "bad-key-xyz")
    llm = make_llm(load_settings(provider="gemini", base_url=f"{server.url}/v1", max_retries=0))
    server.script(openai_error(401, "API key bad-key-xyz not valid"))
    with pytest.raises(ProviderAuthError) as caught:
        await llm.complete([Message.user("hello")])
    await llm.aclose()
    assert "gemini endpoint refused the API key" in str(caught.value)
    assert "bad-key-xyz" not in str(caught.value)
    assert "GEMINI_API_KEY" in (caught.value.hint or "")


def test_the_originals_environment_names_are_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_PROVIDER", "anthropic")
    monkeypatch.setenv("ANTHROPIC_MODEL", "claude-x")
    monkeypatch.setenv("OPENAI_MODEL", "gpt-x")
    monkeypatch.setenv("GEMINI_MODEL", "gemini-x")
    monkeypatch.setenv("XAI_MODEL", "grok-x")
    monkeypatch.setenv("ORCHESTRATOR_ADDRESS", "orch.example:9443")
    settings = load_settings()
    assert (settings.provider, settings.model, settings.orchestrator) == ("anthropic", "claude-x", "orch.example:9443")
    assert load_settings(provider="openai").model == "gpt-x"
    assert load_settings(provider="gemini").model == "gemini-x"
    assert load_settings(provider="xai").model == "grok-x"
    assert load_settings(provider="xai", model="flag").model == "flag"  # flags and AUTOGPT_MODEL win
    monkeypatch.setenv("AUTOGPT_PROVIDER", "scripted")
    monkeypatch.setenv("AUTOGPT_ORCHESTRATOR", "mine:1")
    settings = load_settings()
    assert (settings.provider, settings.orchestrator) == ("scripted", "mine:1")  # the AUTOGPT_ names win
