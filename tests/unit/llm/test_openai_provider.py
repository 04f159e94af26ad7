"""OpenAILLM against a real local server speaking the chat-completions wire format."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from fakes.llm_server import (
    RETRY_NOW,
    FakeLLMServer,
    json_reply,
    openai_completion,
    openai_error,
    openai_stream,
    raw_reply,
    remote_requests_blocked,
)

from autogpt.config import Settings
from autogpt.errors import (
    ConfigError,
    InvalidInputError,
    MalformedReplyError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderUnavailableError,
    RateLimitError,
)
from autogpt.llm import guard
from autogpt.llm.base import Completion, Message, Options, Usage
from autogpt.llm.openai import OpenAILLM

KEY = "sk-test-3f9a1c0ddeadbeef"
MESSAGES = [Message.system("Be brief."), Message.user("Say hello."), Message.assistant("Hi."), Message.user("Again")]
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake


@pytest.fixture
async def llm(server: FakeLLMServer) -> AsyncIterator[OpenAILLM]:
    model = OpenAILLM(
        api_key=KEY,
        model="gpt-test",
        base_url=f"{server.url}/v1",
        timeout=5.0,
        max_retries=2,
        max_tokens=64,
        temperature=0.3,
    )
    yield model
    await model.aclose()


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own keys and endpoints out of settings built in tests."""
    for name in ("OPENAI_API_KEY", "AUTOGPT_OPENAI_API_KEY", "AUTOGPT_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


async def test_complete_reads_the_reply_and_sends_model_messages_and_limits(
    llm: OpenAILLM, server: FakeLLMServer
) -> None:
    server.script(json_reply(openai_completion("Hello there", model="gpt-test-0613")))

    completion = await llm.complete(MESSAGES)

    assert completion == Completion(text="Hello there", finish_reason="stop", model="gpt-test-0613", usage=Usage(11, 3))
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == "gpt-test"
    assert request.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello."},
        {"role": "assistant", "content": "Hi."},
        {"role": "user", "content": "Again"},
    ]
    assert request.body["max_tokens"] == 64
    assert request.body["temperature"] == 0.3
    assert "response_format" not in request.body
    assert "stop" not in request.body


async def test_options_override_the_configured_defaults(llm: OpenAILLM, server: FakeLLMServer) -> None:
    server.script(json_reply(openai_completion()))

    await llm.complete(MESSAGES, Options(max_tokens=7, temperature=0.0, stop=("END",)))

    body = server.requests[0].body
    assert (body["max_tokens"], body["temperature"], body["stop"]) == (7, 0.0, ["END"])


async def test_structured_call_sends_a_json_schema_response_format(llm: OpenAILLM, server: FakeLLMServer) -> None:
    server.script(json_reply(openai_completion('{"name": "Ada"}')))

    completion = await llm.complete(MESSAGES, Options(json_schema=SCHEMA, schema_name="person"))

    assert completion.text == '{"name": "Ada"}'
    assert server.requests[0].body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "person", "schema": SCHEMA, "strict": False},
    }


@pytest.mark.parametrize(
    ("finish", "text", "expected"),
    [("length", "Hel", "length"), ("tool_calls", None, "other"), ("content_filter", None, "other")],
)
async def test_finish_reasons_map_onto_ours(
    llm: OpenAILLM, server: FakeLLMServer, finish: str, text: str | None, expected: str
) -> None:
    server.script(json_reply(openai_completion(text, finish_reason=finish)))

    completion = await llm.complete(MESSAGES)

    assert (completion.text, completion.finish_reason) == (text or "", expected)


async def test_usage_is_zero_when_the_server_reports_none(llm: OpenAILLM, server: FakeLLMServer) -> None:
    payload = openai_completion("ok")
    del payload["usage"]
    server.script(json_reply(payload))

    assert (await llm.complete(MESSAGES)).usage == Usage(0, 0)


async def test_429_is_retried_by_the_sdk_and_then_succeeds(llm: OpenAILLM, server: FakeLLMServer) -> None:
    server.script(openai_error(429, "slow down", RETRY_NOW), json_reply(openai_completion("finally")))

    completion = await llm.complete(MESSAGES)

    assert completion.text == "finally"
    assert len(server.requests) == 2
    assert server.requests[1].headers["x-stainless-retry-count"] == "1"


async def test_429_after_every_retry_is_a_rate_limit_error(llm: OpenAILLM, server: FakeLLMServer) -> None:
    server.script(*[openai_error(429, "slow down", RETRY_NOW)] * 3)

    with pytest.raises(RateLimitError, match="slow down") as caught:
        await llm.complete(MESSAGES)

    assert caught.value.retryable
    assert len(server.requests) == 3


async def test_500_after_every_retry_is_provider_unavailable(llm: OpenAILLM, server: FakeLLMServer) -> None:
    server.script(*[openai_error(500, "boom", RETRY_NOW)] * 3)

    with pytest.raises(ProviderUnavailableError, match="boom"):
        await llm.complete(MESSAGES)

    assert len(server.requests) == 3  # max_retries=2, plus the first attempt


async def test_refused_key_is_an_auth_error_that_never_shows_the_key(llm: OpenAILLM, server: FakeLLMServer) -> None:
    server.script(openai_error(401, f"Incorrect API key provided: {KEY}"))

    with pytest.raises(ProviderAuthError) as caught:
        await llm.complete(MESSAGES)

    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value)
    assert caught.value.__cause__ is None  # the SDK error, which may quote the key, is not chained
    assert caught.value.__suppress_context__
    assert "OPENAI_API_KEY" in str(caught.value)
    assert len(server.requests) == 1  # a refused key is not retried


async def test_unknown_model_is_model_not_found(llm: OpenAILLM, server: FakeLLMServer) -> None:
    server.script(openai_error(404, "The model `gpt-test` does not exist"))

    with pytest.raises(ModelNotFoundError, match="gpt-test"):
        await llm.complete(MESSAGES)


async def test_bad_request_is_invalid_input_with_the_servers_words(llm: OpenAILLM, server: FakeLLMServer) -> None:
    server.script(openai_error(400, "max_tokens is too large"))

    with pytest.raises(InvalidInputError, match="max_tokens is too large"):
        await llm.complete(MESSAGES)


@pytest.mark.parametrize(
    "reply",
    [
        raw_reply("{not json", content_type="application/json"),
        raw_reply("<html>gateway says hi</html>", content_type="text/html"),
        json_reply({"id": "x", "object": "chat.completion", "model": "gpt-test"}),
        json_reply({**openai_completion(), "choices": []}),
        json_reply(openai_completion(None, finish_reason="stop")),
    ],
    ids=["invalid-json", "html", "no-choices", "empty-choices", "no-content"],
)
async def test_malformed_replies_are_malformed_reply_errors(llm: OpenAILLM, server: FakeLLMServer, reply) -> None:
    server.script(reply)

    with pytest.raises(MalformedReplyError):
        await llm.complete(MESSAGES)

    assert len(server.requests) == 1


async def test_stream_yields_deltas_then_a_completion_with_usage(llm: OpenAILLM, server: FakeLLMServer) -> None:
    server.script(openai_stream(["Hel", "lo", " there"], model="gpt-test-0613"))

    items = [item async for item in llm.stream(MESSAGES)]

    assert items[:-1] == ["Hel", "lo", " there"]
    assert items[-1] == Completion(text="Hello there", finish_reason="stop", model="gpt-test-0613", usage=Usage(7, 4))
    body = server.requests[0].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["model"] == "gpt-test"


async def test_stream_that_is_not_server_sent_events_is_malformed(llm: OpenAILLM, server: FakeLLMServer) -> None:
    server.script(json_reply(openai_completion("not streamed")))

    with pytest.raises(MalformedReplyError, match="no chunks"):
        async for _ in llm.stream(MESSAGES):
            pass


async def test_stream_errors_are_translated_too(llm: OpenAILLM, server: FakeLLMServer) -> None:
    server.script(openai_error(401, "no"))

    with pytest.raises(ProviderAuthError):
        async for _ in llm.stream(MESSAGES):
            pass


async def test_unreachable_server_is_provider_unavailable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, and now has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    llm = OpenAILLM(api_key=KEY, model="m", base_url=f"http://127.0.0.1:{port}/v1", timeout=5, max_retries=0)
    try:
        with pytest.raises(ProviderUnavailableError, match="cannot reach"):
            await llm.complete(MESSAGES)
    finally:
        await llm.aclose()


def test_from_settings_without_key_or_base_url_is_a_config_error(settings_env: None) -> None:
    settings = Settings(_env_file=None, provider="openai")

    with pytest.raises(ConfigError) as caught:
        OpenAILLM.from_settings(settings)

    assert "OPENAI_API_KEY" in str(caught.value)
    assert "AUTOGPT_BASE_URL" in str(caught.value)


async def test_from_settings_with_only_a_base_url_uses_a_placeholder_key(
    settings_env: None, server: FakeLLMServer
) -> None:
    settings = Settings(_env_file=None, base_url=f"{server.url}/v1", max_tokens=99, temperature=0.5)
    server.script(json_reply(openai_completion()))
    llm = OpenAILLM.from_settings(settings)
    try:
        await llm.complete(MESSAGES)
    finally:
        await llm.aclose()

    body = server.requests[0].body
    assert (body["model"], body["max_tokens"], body["temperature"]) == ("gpt-4o-mini", 99, 0.5)
    assert server.requests[0].headers["authorization"] == "Bearer not-needed"


@pytest.fixture
def restore_guard() -> Iterator[None]:
    """Whatever a test does to the guard, the next test sees it as it was."""
    before = guard._blocked
    yield
    guard.block_remote_requests(before)


@pytest.fixture
def network_attempts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record, and refuse, every DNS lookup and socket connect made during the test."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


async def test_blocked_guard_stops_remote_requests_before_any_traffic(
    restore_guard: None, network_attempts: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = guard._blocked
    llm = OpenAILLM(api_key=KEY, model="gpt-test", base_url="https://api.openai.com/v1", max_retries=0)
    try:
        with remote_requests_blocked():
            with pytest.raises(ConfigError, match="blocked"):
                await llm.complete(MESSAGES)
            with pytest.raises(ConfigError, match="blocked"):
                async for _ in llm.stream(MESSAGES):
                    pass
        assert network_attempts == []
        assert guard._blocked is before  # put back as it was found

        monkeypatch.setattr(guard, "_blocked", False)  # the control: unblocked, the call does go out
        with pytest.raises(ProviderUnavailableError):
            await llm.complete(MESSAGES)
        assert network_attempts
    finally:
        await llm.aclose()
