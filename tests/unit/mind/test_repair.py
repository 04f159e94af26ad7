"""The write-check-fix loop: bounded by rounds and by the build's time limit, and it keeps
what the first draft got wrong for the lesson."""

from __future__ import annotations

import time
from dataclasses import dataclass

from autogpt.mind.repair import Repaired, deadline_in, out_of_time, repair


@dataclass
class Check:
    ok: bool
    why: str = ""

    def evidence(self) -> str:
        return self.why


async def run(deadline: float | None, passes: str = "v3") -> tuple[Repaired[Check], list[str]]:
    said: list[str] = []

    async def check(draft: str) -> Check:
        return Check(draft == passes, f"- GET /x: {draft} is wrong")

    async def fix(draft: str, report: Check, temperature: float) -> str:
        return f"v{int(draft[1:]) + 1}"

    async def redraft(evidence: str) -> str:
        raise AssertionError("every fix changed the draft")

    async def say(line: str) -> None:
        said.append(line)

    repaired = await repair("v1", check=check, fix=fix, redraft=redraft, say=say, rounds=3, deadline=deadline)
    return repaired, said


async def test_rounds_run_until_the_draft_passes_and_the_first_failure_is_kept() -> None:
    repaired, said = await run(None)
    assert (repaired.draft, repaired.rounds, repaired.report.ok) == ("v3", 2, True)
    assert repaired.first == "v1"
    assert repaired.first_evidence == "- GET /x: v1 is wrong"
    assert repaired.fixed
    assert not repaired.out_of_time
    assert said == ["fix round 1: - GET /x: v1 is wrong", "fix round 2: - GET /x: v2 is wrong"]


async def test_no_round_starts_once_the_time_is_spent() -> None:
    repaired, said = await run(time.monotonic() - 1)
    assert (repaired.draft, repaired.rounds) == ("v1", 0)
    assert repaired.out_of_time
    assert not repaired.report.ok
    assert said == []


async def test_a_draft_that_passes_at_once_is_not_out_of_time_even_when_late() -> None:
    repaired, _ = await run(time.monotonic() - 1, passes="v1")
    assert repaired.report.ok
    assert not repaired.out_of_time
    assert repaired.first_evidence == ""


def test_time_left_becomes_a_deadline_and_anything_else_is_none() -> None:
    now = time.monotonic()
    deadline = deadline_in({"time_left": 30})
    assert deadline is not None
    assert now + 29 < deadline <= time.monotonic() + 30
    assert out_of_time(deadline_in({"time_left": -5}))
    assert deadline_in({}) is None
    assert deadline_in({"time_left": "30"}) is None  # a peer's junk is not a deadline
    assert deadline_in({"time_left": True}) is None
    assert not out_of_time(None)
