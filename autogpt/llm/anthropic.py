"""Claude models through the official ``anthropic`` SDK.

The Messages API differs from chat completions in ways callers should not have to
know: system text is a separate parameter, user and assistant turns must alternate,
and there is no JSON-schema response format, so structured output is a single forced
tool call whose arguments are the reply. API version 2026-10-21 (what SDK 2.x speaks)
refuses ``temperature``, ``top_p`` and ``top_k`` outright, so no temperature is sent
and ``Options.temperature`` has no effect here. Retries on 429, 5xx and timeouts are the
SDK's (exponential backoff, ``retry-after`` honoured); what is left after them becomes
the project's errors at one boundary, :func:`_translate`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import contextmanager
from typing import Literal, TypedDict

import anthropic
import pydantic
from anthropic.types import (
    AssistantMessageParam,
    MessageParam,
    ToolChoiceToolParam,
    ToolParam,
    UserMessageParam,
)

from autogpt.config import Settings
from autogpt.errors import (
    AutoGPTError,
    ConfigError,
    InvalidInputError,
    LLMError,
    MalformedReplyError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderUnavailableError,
    RateLimitError,
)
from autogpt.llm.base import (
    DEFAULT_OPTIONS,
    LLM,
    Completion,
    FinishReason,
    Message,
    Options,
    StreamItem,
    Usage,
)
from autogpt.llm.guard import check_endpoint

DEFAULT_MODEL = "claude-haiku-4-5"
_KEY_HINT = "set ANTHROPIC_API_KEY"
_STOPPED = frozenset({"end_turn", "stop_sequence", "tool_use"})
_TRUNCATED = frozenset({"max_tokens", "model_context_window_exceeded"})


def _server_message(exc: anthropic.APIError) -> str:
    """The server's own words, which say more than the SDK's generic wrapper text."""
    body = exc.body
    for _ in range(2):  # {"type": "error", "error": {"type": ..., "message": ...}}
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return str(body["message"])[:500]
        body = body.get("error") if isinstance(body, dict) else None
    if isinstance(exc.body, str) and exc.body.strip():
        return exc.body.strip()[:500]
    return exc.message


def _from_status(exc: anthropic.APIStatusError, model: str, endpoint: str) -> AutoGPTError:
    status = exc.status_code
    if isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
        # Servers sometimes echo the key back; never repeat their message here.
        return ProviderAuthError(f"the anthropic endpoint refused the API key (HTTP {status})", hint=_KEY_HINT)
    if isinstance(exc, anthropic.NotFoundError):
        return ModelNotFoundError(
            f"model {model!r} not found at {endpoint}: {_server_message(exc)}", hint="check AUTOGPT_MODEL"
        )
    if isinstance(exc, anthropic.RateLimitError):
        return RateLimitError(f"rate limited by {endpoint} after retries: {_server_message(exc)}")
    if isinstance(exc, anthropic.InternalServerError) or status >= 500 or status == 408:
        return ProviderUnavailableError(f"{endpoint} failed (HTTP {status}): {_server_message(exc)}")
    if 400 <= status < 500:
        return InvalidInputError(f"{endpoint} rejected the request (HTTP {status}): {_server_message(exc)}")
    # An error event inside a stream arrives with the stream's own 200 status.
    return ProviderUnavailableError(f"{endpoint} reported an error: {_server_message(exc)}")


@contextmanager
def _translate(model: str, endpoint: str) -> Iterator[None]:
    """Turn every SDK, HTTP and parsing failure into the project's error tree."""
    try:
        yield
    except anthropic.APIStatusError as exc:
        error = _from_status(exc, model, endpoint)
        if isinstance(error, ProviderAuthError):
            raise error from None  # the chained SDK error may quote the key
        raise error from exc
    except anthropic.APITimeoutError as exc:
        raise ProviderUnavailableError(f"{endpoint} timed out after retries") from exc
    except anthropic.APIConnectionError as exc:
        raise ProviderUnavailableError(f"cannot reach {endpoint}: {exc.message}") from exc
    except anthropic.APIResponseValidationError as exc:
        raise MalformedReplyError(f"{endpoint} sent a reply of the wrong shape: {exc.message}") from exc
    except (json.JSONDecodeError, pydantic.ValidationError) as exc:
        raise MalformedReplyError(f"{endpoint} sent a reply that is not valid JSON: {exc}") from exc
    except anthropic.APIError as exc:
        raise ProviderUnavailableError(f"{endpoint} reported an error: {_server_message(exc)}") from exc
    except anthropic.AnthropicError as exc:
        raise LLMError(f"anthropic client error: {exc}") from exc


def _finish(reason: object) -> FinishReason:
    if reason in _STOPPED:
        return "stop"
    if reason in _TRUNCATED:
        return "length"
    return "other"


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0


def _completion_from(reply: object, model: str, structured: bool) -> Completion:
    """Read a reply defensively: the SDK does not validate bodies against their types."""
    blocks = getattr(reply, "content", None)
    if not isinstance(blocks, list):
        raise MalformedReplyError(f"the reply to model {model!r} has no content")
    if structured:
        tool_input = next((getattr(b, "input", None) for b in blocks if getattr(b, "type", "") == "tool_use"), None)
        if not isinstance(tool_input, dict):
            raise MalformedReplyError(f"model {model!r} did not answer with the structured-output tool")
        text = json.dumps(tool_input)
    else:
        text = "".join(
            b.text for b in blocks if getattr(b, "type", "") == "text" and isinstance(getattr(b, "text", None), str)
        )
    usage = getattr(reply, "usage", None)
    replied_model = getattr(reply, "model", None)
    return Completion(
        text=text,
        finish_reason=_finish(getattr(reply, "stop_reason", None)),
        model=replied_model if isinstance(replied_model, str) and replied_model else model,
        usage=Usage(_count(getattr(usage, "input_tokens", 0)), _count(getattr(usage, "output_tokens", 0))),
    )


def _split(messages: Sequence[Message]) -> tuple[str, list[MessageParam]]:
    """System text apart; same-role neighbours merged, because the API wants strict alternation."""
    system: list[str] = []
    turns: list[tuple[Literal["user", "assistant"], str]] = []
    for message in messages:
        if message.role == "system":
            system.append(message.content)
            continue
        role: Literal["user", "assistant"] = "user" if message.role == "user" else "assistant"
        if turns and turns[-1][0] == role:
            turns[-1] = (role, f"{turns[-1][1]}\n\n{message.content}")
        else:
            turns.append((role, message.content))
    params: list[MessageParam] = [
        UserMessageParam(role="user", content=text)
        if role == "user"
        else AssistantMessageParam(role="assistant", content=text)
        for role, text in turns
    ]
    return "\n\n".join(system), params


class _Request(TypedDict):
    """The keyword arguments of ``messages.create``, built once for both call styles."""

    model: str
    system: str | anthropic.Omit
    messages: list[MessageParam]
    max_tokens: int
    stop_sequences: list[str] | anthropic.Omit
    tools: list[ToolParam] | anthropic.Omit
    tool_choice: ToolChoiceToolParam | anthropic.Omit


class _StreamState:
    """What a stream has said so far; events are read as defensively as whole replies."""

    def __init__(self, model: str, *, structured: bool) -> None:
        self.model = model
        self.structured = structured
        self.parts: list[str] = []
        self.stop_reason: object = None
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.started = False

    def feed(self, event: object) -> str | None:
        """Take in one event; return the text delta it carries, if any."""
        kind = getattr(event, "type", None)
        if kind == "message_start":
            self.started = True
            message = getattr(event, "message", None)
            self.model = getattr(message, "model", None) or self.model
            usage = getattr(message, "usage", None)
            self.prompt_tokens = _count(getattr(usage, "input_tokens", 0))
            self.completion_tokens = _count(getattr(usage, "output_tokens", 0))
        elif kind == "content_block_delta":
            delta = getattr(event, "delta", None)
            wanted = ("input_json_delta", "partial_json") if self.structured else ("text_delta", "text")
            piece = getattr(delta, wanted[1], None) if getattr(delta, "type", None) == wanted[0] else None
            if isinstance(piece, str) and piece:
                self.parts.append(piece)
                return piece
        elif kind == "message_delta":
            self.stop_reason = getattr(getattr(event, "delta", None), "stop_reason", None) or self.stop_reason
            usage = getattr(event, "usage", None)
            self.completion_tokens = _count(getattr(usage, "output_tokens", None)) or self.completion_tokens
            self.prompt_tokens = _count(getattr(usage, "input_tokens", None)) or self.prompt_tokens
        return None

    def completion(self, endpoint: str) -> Completion:
        if not self.started:
            raise MalformedReplyError(f"the stream from {endpoint} never started a message")
        text = "".join(self.parts)
        if self.structured:
            text = text or "{}"
            try:
                json.loads(text)
            except json.JSONDecodeError as exc:
                raise MalformedReplyError(f"model {self.model!r} streamed tool input that is not JSON") from exc
        return Completion(
            text=text,
            finish_reason=_finish(self.stop_reason),
            model=self.model,
            usage=Usage(self.prompt_tokens, self.completion_tokens),
        )


class AnthropicLLM(LLM):
    """A Claude model behind the official ``anthropic`` SDK."""

    provider = "anthropic"

    def __init__(
        self,
        *,
        api_key: str | None,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 3,
        max_tokens: int = 1024,
        temperature: float = 0.2,
        context_window: int = 200_000,
    ) -> None:
        if not api_key:
            raise ConfigError("the anthropic provider needs an API key", hint=_KEY_HINT)
        self.model = model
        self.context_window = context_window
        self._max_tokens = max_tokens
        self._temperature = temperature  # accepted for the shared constructor shape, never sent
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self._endpoint = str(self._client.base_url)

    @classmethod
    def from_settings(cls, settings: Settings) -> AnthropicLLM:
        """``settings.base_url`` is for OpenAI-compatible servers; ANTHROPIC_BASE_URL still applies."""
        if settings.anthropic_api_key is None or not settings.anthropic_api_key.get_secret_value():
            raise ConfigError("no Anthropic API key", hint=_KEY_HINT)
        return cls(
            api_key=settings.anthropic_api_key.get_secret_value(),
            model=settings.model or DEFAULT_MODEL,
            timeout=settings.request_timeout,
            max_retries=settings.max_retries,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
        )

    def _request(self, messages: Sequence[Message], options: Options) -> _Request:
        system, turns = _split(messages)
        if not turns:
            raise InvalidInputError("no user or assistant message to send to the model")
        check_endpoint(self._endpoint)
        tools: list[ToolParam] | anthropic.Omit = anthropic.omit
        tool_choice: ToolChoiceToolParam | anthropic.Omit = anthropic.omit
        if options.json_schema is not None:
            tools = [
                {
                    "name": options.schema_name,
                    "description": "Give the reply as this tool's input.",
                    "input_schema": options.json_schema,
                }
            ]
            tool_choice = {"type": "tool", "name": options.schema_name}
        return _Request(
            model=self.model,
            system=system or anthropic.omit,
            messages=turns,
            max_tokens=options.max_tokens if options.max_tokens is not None else self._max_tokens,
            stop_sequences=list(options.stop) if options.stop else anthropic.omit,
            tools=tools,
            tool_choice=tool_choice,
        )

    async def complete(self, messages: Sequence[Message], options: Options = DEFAULT_OPTIONS) -> Completion:
        request = self._request(messages, options)
        with _translate(self.model, self._endpoint):
            reply: object = await self._client.messages.create(**request)
            return _completion_from(reply, self.model, options.json_schema is not None)

    async def stream(
        self, messages: Sequence[Message], options: Options = DEFAULT_OPTIONS
    ) -> AsyncGenerator[StreamItem, None]:
        """Structured calls stream the tool's JSON arguments as they are generated."""
        request = self._request(messages, options)
        state = _StreamState(self.model, structured=options.json_schema is not None)
        with _translate(self.model, self._endpoint):
            events = await self._client.messages.create(**request, stream=True)
            async with events:
                async for event in events:
                    piece = state.feed(event)
                    if piece:
                        yield piece
        yield state.completion(self._endpoint)

    async def aclose(self) -> None:
        await self._client.close()
