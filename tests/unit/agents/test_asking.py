"""The one ask-until-valid loop: checks in order, problems fed back, fallbacks noted, real failures not retried."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from autogpt.agents.asking import Answer, Retry, ask_until_valid, raising, unless
from autogpt.errors import InvalidInputError, ProviderUnavailableError, StructuredOutputError
from autogpt.llm.base import DEFAULT_OPTIONS, Message, Options

ASK = [Message.user("a number, please")]


class Replies:
    """A scripted attempt: each call takes the next reply (an exception is raised), and records what it was asked."""

    def __init__(self, *replies: int | Exception) -> None:
        self.replies = list(replies)
        self.asked: list[tuple[list[Message], Options]] = []

    async def __call__(self, messages: list[Message], options: Options) -> int:
        self.asked.append((messages, options))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def even(n: int) -> Sequence[str]:
    return [] if n % 2 == 0 else [f"{n} is odd"]


async def test_a_good_first_answer_is_taken_as_it_is() -> None:
    replies = Replies(4)
    answer = await ask_until_valid(replies, ASK, checks=[even])
    assert answer == Answer(4, "", 1)
    assert not answer.fell_back
    assert replies.asked[0][0] == ASK


async def test_the_problem_goes_back_to_the_model_and_the_second_try_is_warmer() -> None:
    replies = Replies(3, 6)
    answer = await ask_until_valid(replies, ASK, checks=[even], options=Options(temperature=0.1))
    assert answer.value == 6
    assert answer.attempts == 2
    first, second = replies.asked
    assert first[1].temperature == 0.1
    assert second[1].temperature == 0.7
    assert second[0][:-1] == ASK
    assert second[0][-1].content == "Fix this and answer again: 3 is odd"


async def test_checks_run_in_order_and_the_first_with_problems_decides() -> None:
    seen: list[int] = []

    def later(n: int) -> Sequence[str]:
        seen.append(n)
        return []

    await ask_until_valid(Replies(3, 8), ASK, checks=[even, later])
    assert seen == [8]  # never run on the odd answer the first check refused


async def test_spent_tries_fall_back_with_the_last_answer_and_problem() -> None:
    got: list[tuple[int | None, str]] = []

    async def fallback(last: int | None, problem: str) -> Answer[int]:
        got.append((last, problem))
        return Answer(0, f"used zero ({problem})")

    answer = await ask_until_valid(Replies(3, StructuredOutputError("not JSON")), ASK, checks=[even], fallback=fallback)
    assert got == [(3, "not JSON")]
    assert answer.fell_back
    assert answer.value == 0
    assert "not JSON" in answer.note


async def test_without_a_fallback_spent_tries_raise_the_last_problem() -> None:
    problems: list[str] = []

    async def say(problem: str) -> None:
        problems.append(problem)

    with pytest.raises(InvalidInputError, match=r"no usable number .* 3 tries: 7 is odd"):
        await ask_until_valid(Replies(1, 5, 7), ASK, checks=[even], retry=Retry(tries=3), on_problem=say, what="number")
    assert problems == ["1 is odd", "5 is odd", "7 is odd"]


async def test_a_provider_failure_is_not_the_models_answer_and_is_not_retried() -> None:
    replies = Replies(ProviderUnavailableError("connection refused"), 2)
    with pytest.raises(ProviderUnavailableError):
        await ask_until_valid(replies, ASK, checks=[even])
    assert len(replies.asked) == 1


async def test_check_builders() -> None:
    def positive(n: int) -> None:
        if n <= 0:
            raise InvalidInputError(f"{n} is not positive")

    assert raising(positive)(-1) == ["-1 is not positive"]
    assert raising(positive)(1) == []
    assert unless("too big", lambda n: n > 9)(10) == ["too big"]
    assert unless("too big", lambda n: n > 9)(3) == []


def test_retry_temperatures() -> None:
    assert Retry(temperatures=()).options(1, DEFAULT_OPTIONS) == DEFAULT_OPTIONS
    assert Retry(temperatures=(0.2, 0.7)).options(5, DEFAULT_OPTIONS).temperature == 0.7
