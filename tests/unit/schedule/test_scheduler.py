"""The scheduler on an injected clock: due times, missed runs once, never twice, no overlap."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from autogpt.errors import InvalidInputError
from autogpt.schedule.runner import Scheduler
from autogpt.schedule.store import ScheduleStore

T0 = datetime(2030, 1, 7, 8, 0, 30, tzinfo=UTC).timestamp()  # a Monday, 08:00:30


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make(tmp_path: Path, clock: Clock, gate: asyncio.Event | None = None) -> tuple[Scheduler, list[str], list[str]]:
    ran: list[str] = []
    said: list[str] = []

    async def execute(line: str) -> tuple[bool, str]:
        ran.append(line)
        if gate is not None:
            await gate.wait()
        return (not line.endswith("fail")), f"did {line}"

    store = ScheduleStore(tmp_path / "schedule.db")
    return Scheduler(store, execute, clock=clock, say=said.append), ran, said


async def test_cron_runs_when_due_and_records_outcomes(tmp_path: Path) -> None:
    clock = Clock(T0)
    sched, ran, _ = make(tmp_path, clock)
    sched.store.add("cron", "*/5 * * * *", "/gen run tick", now=T0)
    sched.store.add("cron", "*/5 * * * *", "/gen run fail", now=T0)
    assert await sched.tick() == []  # 08:00 came before the entries did
    clock.now = T0 + 4 * 60 + 40  # 08:05:10
    claimed = await sched.tick()
    await sched.drain()
    assert ran == ["/gen run tick", "/gen run fail"]
    assert [sched.store.run(r.id).outcome for r in claimed] == ["ok", "failed"]
    assert not any(sched.store.run(r.id).missed for r in claimed)
    assert await sched.tick() == []  # same minute again: nothing new


async def test_a_missed_run_runs_once_on_start_and_says_so(tmp_path: Path) -> None:
    clock = Clock(T0)
    sched, ran, said = make(tmp_path, clock)
    sched.store.add("cron", "0 * * * *", "/gen run hourly", now=T0)
    clock.now = T0 + 5 * 3600  # down for five hours: five due times passed
    first = await sched.tick()
    await sched.drain()
    assert ran == ["/gen run hourly"]
    assert sched.store.run(first[0].id).missed
    assert any("missed since 2030-01-07 09:00 UTC" in line for line in said)
    restarted, ran_again, _ = make(tmp_path, clock)  # a restart at the same moment
    assert await restarted.tick() == []
    assert ran_again == []


async def test_overlapping_runs_of_one_entry_are_refused(tmp_path: Path) -> None:
    clock = Clock(T0)
    gate = asyncio.Event()
    sched, ran, _ = make(tmp_path, clock, gate)
    entry = sched.store.add("cron", "* * * * *", "/gen run slow", now=T0)
    clock.now = T0 + 60
    (first,) = await sched.tick()
    clock.now = T0 + 120
    (second,) = await sched.tick()
    assert second.outcome == "refused"
    assert f"run #{first.id} of this entry is still going" in second.output
    gate.set()
    await sched.drain()
    assert ran == ["/gen run slow"]
    assert [r.outcome for r in sched.store.runs(entry.id)] == ["refused", "ok"]


async def test_a_changed_file_triggers_a_run(tmp_path: Path) -> None:
    clock = Clock(T0)
    sched, ran, _ = make(tmp_path, clock)
    watched = tmp_path / "ws"
    watched.mkdir()
    sched.store.add("file", str(watched), "/gen run review", now=T0)
    assert await sched.tick() == []
    (watched / "app.py").write_text("print('hi')\n")
    clock.now += 1
    assert len(await sched.tick()) == 1
    await sched.drain()
    assert await sched.tick() == []
    assert ran == ["/gen run review"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("* * *", "has 3 fields, not 5"),
        ("61 * * * *", r"bad cron line '61 \* \* \* \*': .*out of range"),
        ("a b c d e", "bad cron"),
    ],
)
def test_bad_cron_lines_are_usage_errors(tmp_path: Path, line: str, message: str) -> None:
    store = ScheduleStore(tmp_path / "s.db")
    with pytest.raises(InvalidInputError, match=message) as caught:
        store.add("cron", line, "/gen run x")
    assert "e.g." in (caught.value.hint or "")
