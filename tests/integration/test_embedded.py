"""The real embedded model, loaded once for this module."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from autogpt.config import load_settings
from autogpt.llm.base import Completion, Message, Options
from autogpt.llm.embedded import EmbeddedLLM
from autogpt.llm.structured import complete_structured

pytestmark = pytest.mark.model


class Endpoint(BaseModel):
    method: str = Field(pattern="^(GET|POST|PUT|DELETE)$")
    path: str
    status: int


class Contract(BaseModel):
    name: str
    endpoints: list[Endpoint] = Field(min_length=1, max_length=4)


@pytest.fixture
def llm() -> EmbeddedLLM:
    """The model itself is loaded once per process and shared, so this is cheap after the first."""
    return EmbeddedLLM.from_settings(load_settings(context_size=4096, max_tokens=256))


async def test_schema_constrained_reply_parses(llm: EmbeddedLLM) -> None:
    result = await complete_structured(
        llm,
        [Message.user("Describe a tiny todo API: its name and two endpoints with method, path and status code.")],
        Contract,
        repairs=0,
    )
    assert result.attempts == 1  # valid by construction: llama.cpp enforced the schema
    assert result.value.endpoints
    assert result.usage.completion_tokens > 0


async def test_stream_yields_text_then_completion_with_usage(llm: EmbeddedLLM) -> None:
    items = [i async for i in llm.stream([Message.user("Say hello.")], Options(max_tokens=16))]
    final = items[-1]
    assert isinstance(final, Completion)
    assert all(isinstance(i, str) for i in items[:-1])
    assert "".join(items[:-1]) == final.text  # type: ignore[arg-type]
    assert final.usage.prompt_tokens > 0
    assert final.model == "qwen2.5-coder-0.5b"


async def test_stopping_a_stream_stops_generation(llm: EmbeddedLLM) -> None:
    stream = llm.stream([Message.user("Count from 1 to 300, one number per line.")], Options(max_tokens=600))
    seen = 0
    async for _item in stream:
        seen += 1
        if seen == 5:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    # the model is free again at once: a short call completes normally
    reply = await llm.complete([Message.user("Reply with OK.")], Options(max_tokens=4))
    assert reply.finish_reason in ("stop", "length")
    assert reply.usage.completion_tokens <= 4


async def test_max_tokens_gives_finish_reason_length(llm: EmbeddedLLM) -> None:
    reply = await llm.complete([Message.user("Write a long story about a robot.")], Options(max_tokens=5))
    assert reply.finish_reason == "length"
    assert reply.usage.completion_tokens == 5
