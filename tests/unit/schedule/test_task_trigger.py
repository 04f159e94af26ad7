"""Entries that run when a task of a role finishes, fed by the team's task runner (standalone)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from autogpt.errors import InvalidInputError
from autogpt.schedule.events import record_finished
from autogpt.schedule.runner import Scheduler
from autogpt.schedule.store import ScheduleStore


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def make(data: Path, clock: Clock) -> tuple[Scheduler, list[str], list[str]]:
    ran: list[str] = []
    said: list[str] = []

    async def execute(line: str) -> tuple[bool, str]:
        ran.append(line)
        return True, f"did {line}"

    store = ScheduleStore(data / "schedule.db")
    return Scheduler(store, execute, clock=clock, say=said.append, events=store.events()), ran, said


async def test_a_finished_task_of_the_role_runs_the_entry_once(tmp_path: Path) -> None:
    clock = Clock()
    assert not record_finished(tmp_path, "backend", "task", True)  # no schedule here: nothing is written
    sched, ran, _ = make(tmp_path, clock)
    record_finished(tmp_path, "backend", "task", True)  # before the entry: not its business
    entry = sched.store.add("task", " Backend ", "/gen run review the backend", now=time.time())
    assert entry.spec == "backend"
    assert await sched.tick() == []
    assert record_finished(tmp_path, "frontend", "task", True)
    assert await sched.tick() == []  # another role's task
    record_finished(tmp_path, "backend", "task", False, "tests failed")
    (run,) = await sched.tick()
    await sched.drain()
    assert ran == ["/gen run review the backend"]
    assert sched.store.run(run.id).outcome == "ok"
    assert not sched.store.run(run.id).missed
    assert await sched.tick() == []  # that event is done with


async def test_tasks_that_finished_while_no_scheduler_ran_give_one_run_and_a_restart_none(tmp_path: Path) -> None:
    clock = Clock()
    sched, ran, said = make(tmp_path, clock)
    sched.store.add("task", "backend task", "/gen run summarise", now=clock.now - 1)
    sched.store.add("task", "backend deploy", "/gen run never", now=clock.now - 1)
    for _ in range(3):
        record_finished(tmp_path, "backend", "task", True)
    clock.now += 600  # the scheduler was down meanwhile
    claimed = await sched.tick()
    await sched.drain()
    assert ran == ["/gen run summarise"]  # once for the three; the 'deploy' action never finished
    assert [sched.store.run(r.id).missed for r in claimed] == [True]
    assert any("missed since" in line for line in said)
    restarted, ran_again, _ = make(tmp_path, clock)
    assert await restarted.tick() == []
    assert ran_again == []
    record_finished(tmp_path, "backend", "task", True)
    assert len(await restarted.tick()) == 1  # a new one after the restart: runs, nothing lost


def test_a_bad_task_trigger_is_refused(tmp_path: Path) -> None:
    store = ScheduleStore(tmp_path / "schedule.db")
    for spec in ("", "a b c", "back;end"):
        with pytest.raises(InvalidInputError, match="bad task trigger"):
            store.add("task", spec, "/gen run x")
    assert store.entries() == []
