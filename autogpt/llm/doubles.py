"""Test doubles that are real :class:`LLM` s: use them in tests, demos and examples.

* :class:`FunctionLLM` answers with whatever a function returns for the messages.
* :class:`ScriptedLLM` replays a list of replies in order and records what it was asked.

Neither touches the network. Token usage is a whitespace word count, which is enough
for budgets and accounting to be exercised.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from autogpt.errors import AutoGPTError, LLMError
from autogpt.llm.base import DEFAULT_OPTIONS, LLM, Completion, Message, Options, StreamItem, Usage


@dataclass(frozen=True, slots=True)
class SlowReply:
    """A reply that takes ``seconds`` to arrive: simulates a slow model in demos and tests."""

    text: str
    seconds: float


Reply = str | Completion
ReplyFn = Callable[[Sequence[Message], Options], Reply | Awaitable[Reply]]


class ScriptExhaustedError(LLMError):
    """A :class:`ScriptedLLM` was asked more often than it had replies for."""


def _count(text: str) -> int:
    return len(text.split())


def _as_completion(reply: Reply, messages: Sequence[Message], model: str) -> Completion:
    if isinstance(reply, Completion):
        return reply
    prompt = sum(_count(m.content) for m in messages)
    return Completion(text=reply, finish_reason="stop", model=model, usage=Usage(prompt, _count(reply)))


async def _stream_words(completion: Completion) -> AsyncGenerator[StreamItem, None]:
    words = completion.text.split(" ")
    for i, word in enumerate(words):
        yield word if i == 0 else " " + word
        await asyncio.sleep(0)  # let other tasks see each delta, as a real stream would
    yield completion


@dataclass(frozen=True, slots=True)
class Call:
    messages: tuple[Message, ...]
    options: Options

    @property
    def prompt(self) -> str:
        """The last user message: what most assertions care about."""
        return next((m.content for m in reversed(self.messages) if m.role == "user"), "")


class FunctionLLM(LLM):
    """Answers each call with ``fn(messages, options)``; ``fn`` may be sync or async."""

    provider = "function"

    def __init__(self, fn: ReplyFn, *, model: str = "function", context_window: int = 8192) -> None:
        self.fn = fn
        self.model = model
        self.context_window = context_window
        self.calls: list[Call] = []

    async def complete(self, messages: Sequence[Message], options: Options = DEFAULT_OPTIONS) -> Completion:
        self.calls.append(Call(tuple(messages), options))
        reply = self.fn(messages, options)
        if inspect.isawaitable(reply):
            reply = await reply
        return _as_completion(reply, messages, self.model)

    async def stream(
        self, messages: Sequence[Message], options: Options = DEFAULT_OPTIONS
    ) -> AsyncGenerator[StreamItem, None]:
        async for item in _stream_words(await self.complete(messages, options)):
            yield item


class ScriptedLLM(LLM):
    """Replays ``replies`` in order. An exception in the script is raised for that call."""

    provider = "scripted"

    def __init__(
        self,
        replies: Iterable[Reply | SlowReply | AutoGPTError],
        *,
        model: str = "scripted",
        context_window: int = 8192,
    ) -> None:
        self._replies: list[Reply | SlowReply | AutoGPTError] = list(replies)
        self.model = model
        self.context_window = context_window
        self.calls: list[Call] = []

    @property
    def remaining(self) -> int:
        return len(self._replies)

    def add(self, *replies: Reply | SlowReply | AutoGPTError) -> None:
        self._replies.extend(replies)

    async def complete(self, messages: Sequence[Message], options: Options = DEFAULT_OPTIONS) -> Completion:
        self.calls.append(Call(tuple(messages), options))
        if not self._replies:
            last = messages[-1].content[:200] if messages else ""
            raise ScriptExhaustedError(
                f"scripted LLM has no reply left for call {len(self.calls)}", hint=f"last message: {last!r}"
            )
        reply = self._replies.pop(0)
        if isinstance(reply, AutoGPTError):
            raise reply
        if isinstance(reply, SlowReply):
            await asyncio.sleep(reply.seconds)
            reply = reply.text
        return _as_completion(reply, messages, self.model)

    async def stream(
        self, messages: Sequence[Message], options: Options = DEFAULT_OPTIONS
    ) -> AsyncGenerator[StreamItem, None]:
        async for item in _stream_words(await self.complete(messages, options)):
            yield item
