"""Write, check, fix: the loop that BackendGPT and FrontendGPT share.

A draft is checked; while the check fails and rounds remain, the model gets the draft and
the check's evidence and returns a fix, at a slightly higher temperature each round. A fix
that changes nothing means the model is stuck on that draft: it starts over, more freely.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar


class Report(Protocol):
    @property
    def ok(self) -> bool: ...

    def evidence(self) -> str: ...


R = TypeVar("R", bound=Report)


async def repair(
    first: str,
    *,
    check: Callable[[str], Awaitable[R]],
    fix: Callable[[str, R, float], Awaitable[str]],
    redraft: Callable[[str], Awaitable[str]],
    say: Callable[[str], Awaitable[None]],
    rounds: int = 3,
) -> tuple[str, R, int]:
    """The last draft, its report and the number of fix rounds used (0: the first draft passed)."""
    draft, report = first, await check(first)
    used = 0
    while not report.ok and used < rounds:
        used += 1
        await say(f"fix round {used}: {(report.evidence().splitlines() or ['failed'])[0][:100]}")
        fixed = await fix(draft, report, 0.2 * used)
        if fixed == draft:
            await say("the fix changed nothing; writing a fresh draft")
            fixed = await redraft(report.evidence())
        draft = fixed
        report = await check(draft)
    return draft, report, used
