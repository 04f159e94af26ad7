"""Ask a model until its answer passes the checks: the one loop behind every agent's small-model aids.

A small model's answer is hostile input: it may not parse, may copy the worked example it was
shown, or may be valid but useless. Every agent asks the same way: try, run the checks, show
the model what was wrong and try again (warmer, so it does not repeat itself), and when the
tries are spent either fall back to something safe, with a note that says so, or fail with the
last problem. Only *unusable replies* are retried; a provider that is down or a missing key
is not the model's answer and goes straight to the caller.

The agents keep their examples, checks and fallbacks in modules of their own
(``*_aids.py``), so their main methods read as the job they do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from autogpt.errors import InvalidInputError, MalformedReplyError, StructuredOutputError
from autogpt.llm.base import DEFAULT_OPTIONS, Message, Options

T = TypeVar("T")

#: What an answer that cannot be used raises; anything else is not the model's fault.
UNUSABLE: tuple[type[Exception], ...] = (InvalidInputError, StructuredOutputError, MalformedReplyError, ValueError)

Check = Callable[[T], Sequence[str]]
"""The problems with an answer, said so the model can fix them; empty when it will do."""


@dataclass(frozen=True, slots=True)
class Retry:
    """How to ask again: how many tries, each one's temperature (``None``: the caller's), and
    how the last problem is put to the model."""

    tries: int = 2
    temperatures: tuple[float | None, ...] = (None, 0.7)
    feedback: str = "Fix this and answer again: {problem}"

    def options(self, attempt: int, base: Options) -> Options:
        temperature = self.temperatures[min(attempt, len(self.temperatures) - 1)] if self.temperatures else None
        return base if temperature is None else replace(base, temperature=temperature)


TWICE = Retry()


@dataclass(frozen=True, slots=True)
class Answer(Generic[T]):
    """A value, and when it is not the model's own answer, the note that says why."""

    value: T
    note: str = ""
    attempts: int = 1

    @property
    def fell_back(self) -> bool:
        return bool(self.note)


Attempt = Callable[[list[Message], Options], Awaitable[T]]
"""One try: the messages and options to ask with -> a value, or one of :data:`UNUSABLE`."""
Fallback = Callable[[T | None, str], Awaitable[Answer[T]]]
"""What to do when the tries are spent: the last answer that parsed (if any) and the last problem."""
OnProblem = Callable[[str], Awaitable[None]]


async def ask_until_valid(
    attempt: Attempt[T],
    messages: Sequence[Message],
    *,
    checks: Sequence[Check[T]] = (),
    retry: Retry = TWICE,
    options: Options = DEFAULT_OPTIONS,
    fallback: Fallback[T] | None = None,
    on_problem: OnProblem | None = None,
    what: str = "answer",
) -> Answer[T]:
    """Ask with ``messages`` until an answer passes every check (in order; see :func:`_first_problems`).

    Without a ``fallback``, spent tries raise :class:`InvalidInputError` naming the last problem."""
    problem = ""
    last: T | None = None
    for tried in range(retry.tries):
        ask = list(messages) if not problem else [*messages, Message.user(retry.feedback.format(problem=problem))]
        try:
            value = await attempt(ask, retry.options(tried, options))
        except UNUSABLE as exc:
            problem = str(exc) or type(exc).__name__
        else:
            last = value
            problems = _first_problems(checks, value)
            if not problems:
                return Answer(value, attempts=tried + 1)
            problem = "; ".join(problems)
        if on_problem is not None:
            await on_problem(problem)
    if fallback is None:
        raise InvalidInputError(f"no usable {what} from the model after {retry.tries} tries: {problem}")
    return await fallback(last, problem)


def _first_problems(checks: Sequence[Check[T]], value: T) -> Sequence[str]:
    """Checks run in order and the first that finds problems decides, so a later check may rely
    on what an earlier one established (a graph is acyclic before its order is checked)."""
    for check in checks:
        if problems := check(value):
            return problems
    return ()


def unless(problem: str, bad: Callable[[T], bool]) -> Check[T]:
    """A check from a predicate: ``problem`` when ``bad(answer)``."""

    def check(value: T) -> Sequence[str]:
        return [problem] if bad(value) else []

    return check


def raising(validate: Callable[[T], object]) -> Check[T]:
    """A check from a validator that raises :class:`InvalidInputError` with the problem."""

    def check(value: T) -> Sequence[str]:
        try:
            validate(value)
        except InvalidInputError as exc:
            return [str(exc)]
        return []

    return check
