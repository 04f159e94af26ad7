"""AnthropicLLM against a real local server speaking the Messages API wire format."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from fakes.llm_server import (
    RETRY_NOW,
    FakeLLMServer,
    anthropic_error,
    anthropic_message,
    anthropic_stream,
    json_reply,
    raw_reply,
    remote_requests_blocked,
    sse_reply,
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
from autogpt.llm.anthropic import AnthropicLLM
from autogpt.llm.base import Completion, Message, Options, Usage

KEY = "sk-ant-test-7c2e90aabbccdd"
MESSAGES = [
    Message.system("Be brief."),
    Message.user("Say hello."),
    Message.assistant("Hi."),
    Message.system("Use English."),
    Message.user("Again,"),
    Message.user("please."),
]
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake


@pytest.fixture
async def llm(server: FakeLLMServer) -> AsyncIterator[AnthropicLLM]:
    model = AnthropicLLM(
        api_key=KEY, model="claude-test", base_url=server.url, timeout=5.0, max_retries=2, max_tokens=64
    )
    yield model
    await model.aclose()


async def test_complete_reads_the_reply_and_sends_system_alternating_turns_and_limits(
    llm: AnthropicLLM, server: FakeLLMServer
) -> None:
    server.script(json_reply(anthropic_message("Hello there", model="claude-test-2024")))

    completion = await llm.complete(MESSAGES)

    assert completion == Completion(
        text="Hello there", finish_reason="stop", model="claude-test-2024", usage=Usage(12, 5)
    )
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/v1/messages")
    # SDK 2.x sends the key as a bearer token; older versions used x-api-key.
    assert KEY in request.headers.get("authorization", "") + request.headers.get("x-api-key", "")
    body = request.body
    assert body["model"] == "claude-test"
    assert body["max_tokens"] == 64
    assert body["system"] == "Be brief.\n\nUse English."
    assert body["messages"] == [
        {"role": "user", "content": "Say hello."},
        {"role": "assistant", "content": "Hi."},
        {"role": "user", "content": "Again,\n\nplease."},
    ]
    # API version 2026-10-21 rejects sampling parameters, and nothing else was asked for.
    assert not {"temperature", "tools", "tool_choice", "stop_sequences"} & body.keys()


async def test_text_blocks_are_joined_and_other_blocks_ignored(llm: AnthropicLLM, server: FakeLLMServer) -> None:
    payload = anthropic_message("Hello")
    payload["content"] += [{"type": "thinking", "thinking": "hmm", "signature": "s"}, {"type": "text", "text": "!"}]
    server.script(json_reply(payload))

    assert (await llm.complete(MESSAGES)).text == "Hello!"


async def test_options_override_the_configured_defaults(llm: AnthropicLLM, server: FakeLLMServer) -> None:
    server.script(json_reply(anthropic_message()))

    await llm.complete(MESSAGES, Options(max_tokens=7, stop=("END",)))

    body = server.requests[0].body
    assert (body["max_tokens"], body["stop_sequences"]) == (7, ["END"])


async def test_structured_call_forces_one_tool_and_returns_its_input_as_json(
    llm: AnthropicLLM, server: FakeLLMServer
) -> None:
    reply = anthropic_message(tool_input={"name": "Ada"}, tool_name="person", stop_reason="tool_use")
    server.script(json_reply(reply))

    completion = await llm.complete(MESSAGES, Options(json_schema=SCHEMA, schema_name="person"))

    assert json.loads(completion.text) == {"name": "Ada"}
    assert completion.finish_reason == "stop"
    body = server.requests[0].body
    [tool] = body["tools"]
    assert (tool["name"], tool["input_schema"]) == ("person", SCHEMA)
    assert body["tool_choice"] == {"type": "tool", "name": "person"}


async def test_structured_call_without_a_tool_use_block_is_malformed(llm: AnthropicLLM, server: FakeLLMServer) -> None:
    server.script(json_reply(anthropic_message("I'd rather chat.")))

    with pytest.raises(MalformedReplyError, match="structured-output tool"):
        await llm.complete(MESSAGES, Options(json_schema=SCHEMA))


@pytest.mark.parametrize(
    ("stop_reason", "expected"),
    [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("refusal", "other")],
)
async def test_stop_reasons_map_onto_ours(
    llm: AnthropicLLM, server: FakeLLMServer, stop_reason: str, expected: str
) -> None:
    server.script(json_reply(anthropic_message(stop_reason=stop_reason)))

    assert (await llm.complete(MESSAGES)).finish_reason == expected


async def test_429_is_retried_by_the_sdk_and_then_succeeds(llm: AnthropicLLM, server: FakeLLMServer) -> None:
    server.script(anthropic_error(429, "slow down", RETRY_NOW), json_reply(anthropic_message("finally")))

    completion = await llm.complete(MESSAGES)

    assert completion.text == "finally"
    assert len(server.requests) == 2
    assert server.requests[1].headers["x-stainless-retry-count"] == "1"


async def test_429_after_every_retry_is_a_rate_limit_error(llm: AnthropicLLM, server: FakeLLMServer) -> None:
    server.script(*[anthropic_error(429, "slow down", RETRY_NOW)] * 3)

    with pytest.raises(RateLimitError, match="slow down"):
        await llm.complete(MESSAGES)

    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [500, 529])
async def test_5xx_after_every_retry_is_provider_unavailable(
    llm: AnthropicLLM, server: FakeLLMServer, status: int
) -> None:
    server.script(*[anthropic_error(status, "boom", RETRY_NOW)] * 3)

    with pytest.raises(ProviderUnavailableError, match="boom") as caught:
        await llm.complete(MESSAGES)

    assert caught.value.retryable
    assert len(server.requests) == 3  # max_retries=2, plus the first attempt


async def test_refused_key_is_an_auth_error_that_never_shows_the_key(llm: AnthropicLLM, server: FakeLLMServer) -> None:
    server.script(anthropic_error(401, f"invalid x-api-key: {KEY}"))

    with pytest.raises(ProviderAuthError) as caught:
        await llm.complete(MESSAGES)

    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value)
    assert caught.value.__cause__ is None  # the SDK error, which may quote the key, is not chained
    assert caught.value.__suppress_context__
    assert "ANTHROPIC_API_KEY" in str(caught.value)
    assert len(server.requests) == 1


async def test_unknown_model_is_model_not_found(llm: AnthropicLLM, server: FakeLLMServer) -> None:
    server.script(anthropic_error(404, "model: claude-test"))

    with pytest.raises(ModelNotFoundError, match="claude-test"):
        await llm.complete(MESSAGES)


async def test_bad_request_is_invalid_input_with_the_servers_words(llm: AnthropicLLM, server: FakeLLMServer) -> None:
    server.script(anthropic_error(400, "messages: roles must alternate"))

    with pytest.raises(InvalidInputError, match="roles must alternate"):
        await llm.complete(MESSAGES)


async def test_only_system_messages_is_invalid_input_without_a_request(
    llm: AnthropicLLM, server: FakeLLMServer
) -> None:
    with pytest.raises(InvalidInputError):
        await llm.complete([Message.system("Be brief.")])

    assert server.requests == []


@pytest.mark.parametrize(
    "reply",
    [
        raw_reply("{not json", content_type="application/json"),
        raw_reply("<html>gateway says hi</html>", content_type="text/html"),
        json_reply({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test"}),
    ],
    ids=["invalid-json", "html", "no-content"],
)
async def test_malformed_replies_are_malformed_reply_errors(llm: AnthropicLLM, server: FakeLLMServer, reply) -> None:
    server.script(reply)

    with pytest.raises(MalformedReplyError):
        await llm.complete(MESSAGES)

    assert len(server.requests) == 1


async def test_stream_yields_deltas_then_a_completion_with_usage(llm: AnthropicLLM, server: FakeLLMServer) -> None:
    server.script(anthropic_stream(["Hel", "lo", " there"], model="claude-test-2024"))

    items = [item async for item in llm.stream(MESSAGES)]

    assert items[:-1] == ["Hel", "lo", " there"]
    assert items[-1] == Completion(
        text="Hello there", finish_reason="stop", model="claude-test-2024", usage=Usage(9, 6)
    )
    body = server.requests[0].body
    assert body["stream"] is True
    assert body["model"] == "claude-test"


async def test_structured_stream_yields_the_tool_json(llm: AnthropicLLM, server: FakeLLMServer) -> None:
    server.script(anthropic_stream(['{"na', 'me": "A', 'da"}'], tool_name="person"))

    items = [item async for item in llm.stream(MESSAGES, Options(json_schema=SCHEMA, schema_name="person"))]

    final = items[-1]
    assert isinstance(final, Completion)
    assert "".join(str(i) for i in items[:-1]) == final.text
    assert json.loads(final.text) == {"name": "Ada"}
    assert final.finish_reason == "stop"
    assert server.requests[0].body["tool_choice"] == {"type": "tool", "name": "person"}


async def test_stream_that_is_not_server_sent_events_is_malformed(llm: AnthropicLLM, server: FakeLLMServer) -> None:
    server.script(json_reply(anthropic_message("not streamed")))

    with pytest.raises(MalformedReplyError, match="never started"):
        async for _ in llm.stream(MESSAGES):
            pass


async def test_error_event_inside_a_stream_is_provider_unavailable(llm: AnthropicLLM, server: FakeLLMServer) -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "overloaded now"}}
    server.script(sse_reply([("error", error)]))

    with pytest.raises(ProviderUnavailableError, match="overloaded now"):
        async for _ in llm.stream(MESSAGES):
            pass


async def test_unreachable_server_is_provider_unavailable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, and now has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    llm = AnthropicLLM(api_key=KEY, model="m", base_url=f"http://127.0.0.1:{port}", timeout=5, max_retries=0)
    try:
        with pytest.raises(ProviderUnavailableError, match="cannot reach"):
            await llm.complete(MESSAGES)
    finally:
        await llm.aclose()


def test_from_settings_without_key_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "AUTOGPT_ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None, provider="anthropic")

    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        AnthropicLLM.from_settings(settings)


async def test_from_settings_uses_the_default_model_and_settings_limits(
    monkeypatch: pytest.MonkeyPatch, server: FakeLLMServer
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)  # the SDK's own variable still applies
    settings = Settings(_env_file=None, provider="anthropic", anthropic_api_key=KEY, max_tokens=99)
    server.script(json_reply(anthropic_message()))
    llm = AnthropicLLM.from_settings(settings)
    try:
        await llm.complete(MESSAGES)
    finally:
        await llm.aclose()

    body = server.requests[0].body
    assert (body["model"], body["max_tokens"]) == ("claude-haiku-4-5", 99)


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
    llm = AnthropicLLM(api_key=KEY, model="claude-test", base_url="https://api.anthropic.com", max_retries=0)
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
