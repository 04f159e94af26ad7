"""Write, check, fix: the loop that BackendGPT and FrontendGPT share.

A draft is checked; while the check fails and rounds remain, the model gets the draft and
the check's evidence and returns a fix, at a slightly higher temperature each round. A fix
that changes nothing means the model is stuck on that draft: it starts over, more freely.
A build with a time limit passes each task the seconds it has left; once they are spent no
further round starts (a round already running finishes), and the caller says so.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class Report(Protocol):
    @property
    def ok(self) -> bool: ...

    def evidence(self) -> str: ...


R = TypeVar("R", bound=Report)
TIME_UP = "; no further round: the build's time limit was reached"


@dataclass(frozen=True)
class Repaired(Generic[R]):
    """How a repair went: the last draft and its report, the rounds used (0: the first draft
    passed), the first draft and what was wrong with it, and whether time ran out first."""

    draft: str
    report: R
    rounds: int
    first: str
    first_evidence: str
    out_of_time: bool

    @property
    def fixed(self) -> bool:
        return self.rounds > 0 and self.report.ok


clock = time.monotonic  # what deadlines are measured on (tests turn it by hand)


def deadline_in(args: Mapping[str, object]) -> float | None:
    """The :data:`clock` time by which a task sent with ``time_left`` (seconds) must stop
    starting work. Take it when the task arrives: taken after the first draft, the draft's
    own minutes were added to the build's limit."""
    left = args.get("time_left")
    if isinstance(left, bool) or not isinstance(left, int | float):
        return None
    return clock() + max(float(left), 0.0)


def out_of_time(deadline: float | None) -> bool:
    return deadline is not None and clock() >= deadline


async def repair(
    first: str,
    *,
    check: Callable[[str], Awaitable[R]],
    fix: Callable[[str, R, float], Awaitable[str]],
    redraft: Callable[[str], Awaitable[str]],
    say: Callable[[str], Awaitable[None]],
    rounds: int = 3,
    deadline: float | None = None,
) -> Repaired[R]:
    """No round starts after ``deadline`` (a :data:`clock` value)."""
    draft, report = first, await check(first)
    first_evidence = "" if report.ok else report.evidence()
    used = 0
    while not report.ok and used < rounds and not out_of_time(deadline):
        used += 1
        await say(f"fix round {used}: {(report.evidence().splitlines() or ['failed'])[0][:100]}")
        fixed = await fix(draft, report, 0.2 * used)
        if fixed == draft:
            await say("the fix changed nothing; writing a fresh draft")
            fixed = await redraft(report.evidence())
        draft = fixed
        report = await check(draft)
    late = not report.ok and used < rounds and out_of_time(deadline)
    return Repaired(draft, report, used, first, first_evidence, late)
