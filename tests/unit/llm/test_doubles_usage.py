"""The LLM test doubles, and usage metering on top of any LLM."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from autogpt.errors import AutoGPTError, LLMError, RateLimitError
from autogpt.llm.base import LLM, Completion, Message, Options, StreamItem, Usage
from autogpt.llm.doubles import FunctionLLM, ScriptedLLM, ScriptExhaustedError
from autogpt.llm.usage import MeteredLLM, UsageMeter

HELLO = [Message.system("be brief"), Message.user("say hello please")]  # 5 words of prompt


async def collect(llm: LLM, messages: Sequence[Message]) -> list[StreamItem]:
    return [item async for item in llm.stream(messages)]


async def test_scripted_replays_in_order_and_records_calls() -> None:
    llm = ScriptedLLM(["first reply", Completion("second", model="m2", usage=Usage(1, 2)), "third one here"])
    assert llm.remaining == 3

    one = await llm.complete(HELLO)
    assert one.text == "first reply"
    assert one.usage == Usage(5, 2)
    assert one.model == "scripted"
    assert one.finish_reason == "stop"

    two = await llm.complete([Message.user("again")], Options(max_tokens=9))
    assert two == Completion("second", model="m2", usage=Usage(1, 2))

    llm.add("fourth")
    assert (await llm.complete(HELLO)).text == "third one here"
    assert (await llm.complete(HELLO)).text == "fourth"
    assert llm.remaining == 0

    assert len(llm.calls) == 4
    assert llm.calls[0].messages == tuple(HELLO)
    assert llm.calls[0].prompt == "say hello please"
    assert llm.calls[1].options.max_tokens == 9
    assert llm.calls[1].prompt == "again"


async def test_scripted_raises_the_scripted_error_then_continues() -> None:
    boom = RateLimitError("slow down", hint="retry later")
    llm = ScriptedLLM(["ok", boom, "after"])
    assert (await llm.complete(HELLO)).text == "ok"
    with pytest.raises(RateLimitError) as info:
        await llm.complete(HELLO)
    assert info.value is boom
    assert (await llm.complete(HELLO)).text == "after"
    assert len(llm.calls) == 3


async def test_scripted_exhausted() -> None:
    llm = ScriptedLLM(["only"])
    await llm.complete(HELLO)
    with pytest.raises(ScriptExhaustedError) as info:
        await llm.complete([Message.user("one more thing")])
    assert isinstance(info.value, LLMError)
    assert isinstance(info.value, AutoGPTError)
    assert "call 2" in info.value.message
    assert info.value.hint is not None
    assert "one more thing" in info.value.hint
    assert len(llm.calls) == 2
    with pytest.raises(ScriptExhaustedError):
        await ScriptedLLM([]).complete([])


async def test_function_llm_sync() -> None:
    def answer(messages: Sequence[Message], options: Options) -> str:
        return f"{len(messages)} messages, max {options.max_tokens}"

    llm = FunctionLLM(answer, model="fn-model")
    out = await llm.complete(HELLO, Options(max_tokens=7))
    assert out.text == "2 messages, max 7"
    assert out.model == "fn-model"
    assert out.usage == Usage(5, 4)
    assert llm.calls[0].messages == tuple(HELLO)
    assert llm.provider == "function"


async def test_function_llm_async_and_completion_replies() -> None:
    seen: list[str] = []

    async def answer(messages: Sequence[Message], options: Options) -> str | Completion:
        seen.append(messages[-1].content)
        if messages[-1].content == "raw":
            return Completion("exact", finish_reason="length", usage=Usage(3, 4))
        return messages[-1].content.upper()

    llm = FunctionLLM(answer)
    assert (await llm.complete([Message.user("shout this")])).text == "SHOUT THIS"
    raw = await llm.complete([Message.user("raw")])
    assert raw == Completion("exact", finish_reason="length", usage=Usage(3, 4))
    assert seen == ["shout this", "raw"]
    assert len(llm.calls) == 2


@pytest.mark.parametrize(
    "text",
    ["The quick brown fox jumps", "line one\nline  two with  double spaces ", "def f():\n    return 1\n"],
)
async def test_streaming_yields_deltas_then_the_completion(text: str) -> None:
    for llm in (ScriptedLLM([text]), FunctionLLM(lambda _m, _o: text)):
        items = await collect(llm, HELLO)
        deltas, final = items[:-1], items[-1]
        assert len(deltas) >= 3
        assert all(isinstance(d, str) for d in deltas)
        assert "".join(d for d in deltas if isinstance(d, str)) == text
        assert isinstance(final, Completion)
        assert final.text == text
        assert final.usage == Usage(5, len(text.split()))
        assert sum(isinstance(i, Completion) for i in items) == 1
        assert len(llm.calls) == 1


async def test_streaming_a_scripted_error_raises_before_any_delta() -> None:
    llm = ScriptedLLM([RateLimitError("busy")])
    stream = llm.stream(HELLO)
    with pytest.raises(RateLimitError):
        await anext(stream)  # the very first item already fails: no delta was produced
    assert len(llm.calls) == 1


def meter_pair() -> tuple[UsageMeter, MeteredLLM, MeteredLLM]:
    meter = UsageMeter()
    coder = MeteredLLM(
        ScriptedLLM([Completion("a", model="m-big", usage=Usage(10, 1)), Completion("b", usage=Usage(20, 2))]),
        meter,
        "coder",
    )
    tester = MeteredLLM(ScriptedLLM([Completion("c", usage=Usage(100, 30))], model="tiny"), meter, "tester")
    return meter, coder, tester


def check_totals(meter: UsageMeter) -> None:
    assert meter.total == Usage(130, 33)
    assert meter.total.total_tokens == 163
    assert meter.by_agent() == {"coder": Usage(30, 3), "tester": Usage(100, 30)}
    assert meter.calls() == 3
    assert meter.calls("coder") == 2
    assert meter.calls("tester") == 1
    assert meter.calls("nobody") == 0
    records = meter.records
    assert [r.agent for r in records] == ["coder", "tester", "coder"]
    assert [r.model for r in records] == ["m-big", "tiny", "scripted"]
    assert all(r.provider == "scripted" for r in records)
    assert all(r.seconds >= 0 for r in records)
    assert all(r.finish_reason == "stop" for r in records)


async def test_metered_complete_records_per_agent() -> None:
    meter, coder, tester = meter_pair()
    assert meter.total == Usage()
    assert meter.by_agent() == {}
    assert coder.provider == "scripted"
    assert tester.model == "tiny"

    assert (await coder.complete(HELLO)).text == "a"
    assert (await tester.complete(HELLO)).text == "c"
    assert (await coder.complete(HELLO)).text == "b"
    check_totals(meter)


async def test_metered_stream_records_once_per_call() -> None:
    meter, coder, tester = meter_pair()
    for llm in (coder, tester, coder):
        items = await collect(llm, HELLO)
        assert isinstance(items[-1], Completion)
        assert "".join(i for i in items if isinstance(i, str)) == items[-1].text
    check_totals(meter)


async def test_metered_failed_call_is_not_recorded() -> None:
    meter = UsageMeter()
    llm = MeteredLLM(ScriptedLLM([RateLimitError("busy"), "fine now"]), meter, "planner")
    with pytest.raises(RateLimitError):
        await llm.complete(HELLO)
    assert meter.calls() == 0
    await llm.complete(HELLO)
    assert meter.by_agent() == {"planner": Usage(5, 2)}
    await llm.aclose()
