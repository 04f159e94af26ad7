"""The one seam every model sits behind: ``complete(messages, options) -> Completion``.

Providers implement :meth:`LLM.complete`; streaming has a default (one chunk) that
providers able to stream override. Everything else (usage metering, structured output,
retries at the agent level) is built on top of these two methods, never inside them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "cancelled", "error", "other"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str

    @classmethod
    def system(cls, content: str) -> Message:
        return cls("system", content)

    @classmethod
    def user(cls, content: str) -> Message:
        return cls("user", content)

    @classmethod
    def assistant(cls, content: str) -> Message:
        return cls("assistant", content)


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens)


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    finish_reason: FinishReason = "stop"
    model: str = ""
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True, slots=True)
class Options:
    """Per-call knobs; ``None`` means the provider's configured default."""

    max_tokens: int | None = None
    temperature: float | None = None
    stop: tuple[str, ...] = ()
    json_schema: dict[str, Any] | None = None
    schema_name: str = "reply"


DEFAULT_OPTIONS = Options()

StreamItem = str | Completion
"""A stream yields text deltas (``str``) and ends with exactly one :class:`Completion`."""


class LLM(ABC):
    """A language model. ``provider`` and ``model`` name it in logs and usage records."""

    provider: str = "unknown"
    model: str = ""
    context_window: int = 8192

    @abstractmethod
    async def complete(self, messages: Sequence[Message], options: Options = DEFAULT_OPTIONS) -> Completion:
        """Generate one reply to ``messages``."""

    async def stream(
        self, messages: Sequence[Message], options: Options = DEFAULT_OPTIONS
    ) -> AsyncGenerator[StreamItem, None]:
        """Yield text as it is generated, then the final :class:`Completion`."""
        completion = await self.complete(messages, options)
        if completion.text:
            yield completion.text
        yield completion

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most providers hold nothing
        """Release what the provider holds (HTTP pools, model memory)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.provider}:{self.model}>"
