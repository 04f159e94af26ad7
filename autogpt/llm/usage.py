"""Token accounting: every call recorded, summed per agent and per session."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from autogpt.llm.base import DEFAULT_OPTIONS, LLM, Completion, Message, Options, StreamItem, Usage


@dataclass(frozen=True, slots=True)
class CallRecord:
    agent: str
    provider: str
    model: str
    usage: Usage
    seconds: float
    finish_reason: str


_spent: ContextVar[list[Usage] | None] = ContextVar("autogpt_request_usage", default=None)


@contextlib.contextmanager
def request_usage() -> Iterator[list[Usage]]:
    """Collect what one request costs: the LLM calls made while handling it (in this task and
    the tasks it starts) and whatever :func:`charge` adds, such as the cost of sub-requests."""
    spent: list[Usage] = []
    token = _spent.set(spent)
    try:
        yield spent
    finally:
        _spent.reset(token)


def charge(usage: Usage) -> None:
    """Add ``usage`` to the request being handled (no-op outside one)."""
    if (spent := _spent.get()) is not None:
        spent.append(usage)


def spent_so_far() -> Usage:
    return sum(_spent.get() or (), Usage())


class UsageMeter:
    """Collects :class:`CallRecord` s for one session; cheap enough to keep every record."""

    def __init__(self) -> None:
        self._records: list[CallRecord] = []

    def record(self, record: CallRecord) -> None:
        self._records.append(record)

    @property
    def records(self) -> tuple[CallRecord, ...]:
        return tuple(self._records)

    @property
    def total(self) -> Usage:
        total = Usage()
        for r in self._records:
            total += r.usage
        return total

    def by_agent(self) -> dict[str, Usage]:
        out: dict[str, Usage] = {}
        for r in self._records:
            out[r.agent] = out.get(r.agent, Usage()) + r.usage
        return out

    def calls(self, agent: str | None = None) -> int:
        return sum(1 for r in self._records if agent is None or r.agent == agent)


class MeteredLLM(LLM):
    """Wraps any LLM so each call lands in a :class:`UsageMeter` under an agent's name."""

    def __init__(self, inner: LLM, meter: UsageMeter, agent: str) -> None:
        self.inner = inner
        self.meter = meter
        self.agent = agent
        self.provider = inner.provider
        self.model = inner.model
        self.context_window = inner.context_window

    async def complete(self, messages: Sequence[Message], options: Options = DEFAULT_OPTIONS) -> Completion:
        started = time.perf_counter()
        completion = await self.inner.complete(messages, options)
        self._record(completion, time.perf_counter() - started)
        return completion

    async def stream(
        self, messages: Sequence[Message], options: Options = DEFAULT_OPTIONS
    ) -> AsyncGenerator[StreamItem, None]:
        started = time.perf_counter()
        async with contextlib.aclosing(self.inner.stream(messages, options)) as stream:
            async for item in stream:
                if isinstance(item, Completion):
                    self._record(item, time.perf_counter() - started)
                yield item

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _record(self, completion: Completion, seconds: float) -> None:
        charge(completion.usage)
        self.meter.record(
            CallRecord(
                agent=self.agent,
                provider=self.provider,
                model=completion.model or self.model,
                usage=completion.usage,
                seconds=seconds,
                finish_reason=completion.finish_reason,
            )
        )
