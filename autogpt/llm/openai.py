"""OpenAI, and every server that speaks its chat-completions dialect.

Ollama, vLLM and llama.cpp's server accept the same requests, so one class covers them
all: point ``base_url`` at the server. Retries on 429, 5xx and timeouts are left to the
SDK, which already backs off exponentially and honours ``retry-after``; this module only
turns what is left after them into the project's errors, at one boundary
(:func:`_translate`), so no SDK exception reaches callers.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import contextmanager
from typing import ClassVar, TypedDict

import openai
import pydantic
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema

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
from autogpt.llm.images import ImageModel, png_from

DEFAULT_MODEL = "gpt-4o-mini"
PLACEHOLDER_KEY = "not-needed"
"""Local servers ignore the key, but the SDK refuses to start without one."""

_KEY_HINT = "set OPENAI_API_KEY, or AUTOGPT_BASE_URL for an OpenAI-compatible server"
# A reply may carry no text when the model did something other than talk.
_SILENT_FINISHES = frozenset({"tool_calls", "function_call", "content_filter"})


def _server_message(exc: openai.APIError) -> str:
    """The server's own words, which say more than the SDK's generic wrapper text."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])[:500]
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return exc.message


def _from_status(
    exc: openai.APIStatusError, model: str, endpoint: str, provider: str = "openai", key_hint: str = _KEY_HINT
) -> AutoGPTError:
    status = exc.status_code
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        # Servers sometimes echo the key back; never repeat their message here.
        return ProviderAuthError(f"the {provider} endpoint refused the API key (HTTP {status})", hint=key_hint)
    if isinstance(exc, openai.NotFoundError):
        return ModelNotFoundError(
            f"model {model!r} not found at {endpoint}: {_server_message(exc)}",
            hint="check AUTOGPT_MODEL, and that the base URL ends in /v1",
        )
    if isinstance(exc, openai.RateLimitError):
        return RateLimitError(f"rate limited by {endpoint} after retries: {_server_message(exc)}")
    if isinstance(exc, openai.InternalServerError) or status >= 500 or status == 408:
        return ProviderUnavailableError(f"{endpoint} failed (HTTP {status}): {_server_message(exc)}")
    if 400 <= status < 500:
        return InvalidInputError(f"{endpoint} rejected the request (HTTP {status}): {_server_message(exc)}")
    return ProviderUnavailableError(f"{endpoint} answered HTTP {status}: {_server_message(exc)}")


@contextmanager
def _translate(model: str, endpoint: str, provider: str = "openai", key_hint: str = _KEY_HINT) -> Iterator[None]:
    """Turn every SDK, HTTP and parsing failure into the project's error tree."""
    try:
        yield
    except openai.APIStatusError as exc:
        error = _from_status(exc, model, endpoint, provider, key_hint)
        if isinstance(error, ProviderAuthError):
            raise error from None  # the chained SDK error may quote the key
        raise error from exc
    except openai.APITimeoutError as exc:
        raise ProviderUnavailableError(f"{endpoint} timed out after retries") from exc
    except openai.APIConnectionError as exc:
        raise ProviderUnavailableError(f"cannot reach {endpoint}: {exc.message}") from exc
    except openai.APIResponseValidationError as exc:
        raise MalformedReplyError(f"{endpoint} sent a reply of the wrong shape: {exc.message}") from exc
    except (json.JSONDecodeError, pydantic.ValidationError) as exc:
        raise MalformedReplyError(f"{endpoint} sent a reply that is not valid JSON: {exc}") from exc
    except openai.APIError as exc:  # an error event in the middle of a stream
        raise ProviderUnavailableError(f"{endpoint} reported an error: {_server_message(exc)}") from exc
    except openai.OpenAIError as exc:
        raise LLMError(f"{provider} client error: {exc}") from exc


def _finish(reason: object) -> FinishReason:
    if reason == "stop":
        return "stop"
    if reason == "length":
        return "length"
    return "other"


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0


def _usage(usage: object) -> Usage:
    return Usage(_count(getattr(usage, "prompt_tokens", 0)), _count(getattr(usage, "completion_tokens", 0)))


def _completion_from(reply: object, model: str) -> Completion:
    """Read a reply defensively: the SDK does not validate bodies, and compatible servers vary."""
    choices = getattr(reply, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise MalformedReplyError(f"the reply to model {model!r} has no choices")
    choice = choices[0]
    finish = getattr(choice, "finish_reason", None)
    text = getattr(getattr(choice, "message", None), "content", None)
    if not isinstance(text, str):
        if finish not in _SILENT_FINISHES:
            raise MalformedReplyError(f"the reply to model {model!r} has no message content")
        text = ""
    replied_model = getattr(reply, "model", None)
    return Completion(
        text=text,
        finish_reason=_finish(finish),
        model=replied_model if isinstance(replied_model, str) and replied_model else model,
        usage=_usage(getattr(reply, "usage", None)),
    )


def _message_param(message: Message) -> ChatCompletionMessageParam:
    if message.role == "system":
        return {"role": "system", "content": message.content}
    if message.role == "user":
        return {"role": "user", "content": message.content}
    return {"role": "assistant", "content": message.content}


class _Request(TypedDict):
    """The keyword arguments of ``chat.completions.create``, built once for both call styles."""

    model: str
    messages: list[ChatCompletionMessageParam]
    max_tokens: int
    temperature: float
    stop: list[str] | openai.Omit
    response_format: ResponseFormatJSONSchema | openai.Omit


class OpenAILLM(LLM):
    """A chat-completions model behind the official ``openai`` SDK."""

    provider = "openai"
    key_hint: ClassVar[str] = _KEY_HINT

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
        context_window: int = 128_000,
    ) -> None:
        if not api_key:
            if not base_url:
                raise ConfigError(f"the {self.provider} provider needs an API key", hint=self.key_hint)
            api_key = PLACEHOLDER_KEY
        self.model = model
        self.context_window = context_window
        self._max_tokens = max_tokens
        self._temperature = temperature
        self._client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        self._endpoint = str(self._client.base_url)

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAILLM:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key is not None else None
        if not key and not settings.base_url:
            raise ConfigError("no OpenAI API key and no OpenAI-compatible base URL", hint=_KEY_HINT)
        return cls(
            api_key=key,
            model=settings.model or DEFAULT_MODEL,
            base_url=settings.base_url,
            timeout=settings.request_timeout,
            max_retries=settings.max_retries,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
        )

    def _request(self, messages: Sequence[Message], options: Options) -> _Request:
        if not messages:
            raise InvalidInputError("no messages to send to the model")
        check_endpoint(self._endpoint)
        response_format: ResponseFormatJSONSchema | openai.Omit = openai.omit
        if options.json_schema is not None:
            response_format = {
                "type": "json_schema",
                "json_schema": {"name": options.schema_name, "schema": options.json_schema, "strict": False},
            }
        return _Request(
            model=self.model,
            messages=[_message_param(m) for m in messages],
            max_tokens=options.max_tokens if options.max_tokens is not None else self._max_tokens,
            temperature=options.temperature if options.temperature is not None else self._temperature,
            stop=list(options.stop) if options.stop else openai.omit,
            response_format=response_format,
        )

    async def complete(self, messages: Sequence[Message], options: Options = DEFAULT_OPTIONS) -> Completion:
        request = self._request(messages, options)
        with _translate(self.model, self._endpoint, self.provider, self.key_hint):
            reply: object = await self._client.chat.completions.create(**request)
            return _completion_from(reply, self.model)

    async def stream(
        self, messages: Sequence[Message], options: Options = DEFAULT_OPTIONS
    ) -> AsyncGenerator[StreamItem, None]:
        request = self._request(messages, options)
        parts: list[str] = []
        finish: object = None
        model = self.model
        usage = Usage()
        chunks_seen = 0
        with _translate(self.model, self._endpoint, self.provider, self.key_hint):
            chunks = await self._client.chat.completions.create(
                **request, stream=True, stream_options={"include_usage": True}
            )
            async with chunks:
                async for chunk in chunks:
                    chunks_seen += 1
                    model = getattr(chunk, "model", None) or model
                    if getattr(chunk, "usage", None) is not None:
                        usage = _usage(chunk.usage)
                    for choice in getattr(chunk, "choices", None) or ():
                        finish = getattr(choice, "finish_reason", None) or finish
                        text = getattr(getattr(choice, "delta", None), "content", None)
                        if isinstance(text, str) and text:
                            parts.append(text)
                            yield text
        if not chunks_seen:
            raise MalformedReplyError(f"the stream from {self._endpoint} carried no chunks")
        yield Completion(text="".join(parts), finish_reason=_finish(finish), model=model, usage=usage)

    async def aclose(self) -> None:
        await self._client.close()


class OpenAIImages(ImageModel):
    """OpenAI's ``images.generate`` behind the official SDK, read defensively."""

    provider = "openai"

    def __init__(
        self,
        *,
        api_key: str | None,
        model: str,
        base_url: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 3,
    ) -> None:
        if not api_key and not base_url:
            raise ConfigError(
                f"the image model {model!r} needs an OpenAI API key",
                hint="set OPENAI_API_KEY (or AUTOGPT_BASE_URL for a compatible server), or unset AUTOGPT_IMAGE_MODEL",
            )
        self.model = model
        self._client = openai.AsyncOpenAI(
            api_key=api_key or PLACEHOLDER_KEY, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self._endpoint = str(self._client.base_url)

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIImages:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key is not None else None
        return cls(
            api_key=key,
            model=settings.image_model or "gpt-image-1",
            base_url=settings.base_url,
            timeout=settings.request_timeout,
            max_retries=settings.max_retries,
        )

    async def generate(self, prompt: str, *, size: str = "1024x1024") -> bytes:
        check_endpoint(self._endpoint)
        # dall-e models send a link unless asked for the bytes; gpt-image models always send
        # bytes, and are asked for PNG (they may otherwise pick another format)
        dalle = self.model.startswith("dall-e")
        with _translate(self.model, self._endpoint):
            reply: object = await self._client.images.generate(
                model=self.model,
                prompt=prompt[:4000],
                size=size,
                n=1,
                response_format="b64_json" if dalle else openai.omit,
                output_format=openai.omit if dalle else "png",
            )
        data = getattr(reply, "data", None)
        encoded = getattr(data[0], "b64_json", None) if isinstance(data, list) and data else None
        if not isinstance(encoded, str) or not encoded:
            raise MalformedReplyError(f"the image reply from {self._endpoint} carries no base64 image")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedReplyError(f"the image reply from {self._endpoint} is not valid base64") from None
        return png_from(raw, self._endpoint)

    async def aclose(self) -> None:
        await self._client.close()
