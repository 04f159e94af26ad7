"""The long-lived part of the scheduler: find what is due, claim it, run it, record it.

Time comes from an injectable clock, so tests move it instead of waiting for minutes.
A cron entry whose latest due time passed while no scheduler ran is run once, flagged
``missed`` (and said so), however many times it was due meanwhile; a due time is
claimed in the store before it runs, so a restart never runs it twice. A task entry
runs once for the tasks of its role that finished since its last run (however many),
flagged ``missed`` when the first of them ended over ``grace`` seconds before.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from autogpt.errors import AutoGPTError
from autogpt.schedule.events import Events
from autogpt.schedule.store import Entry, Run, ScheduleStore, latest_due, next_due, signature

Execute = Callable[[str], Awaitable[tuple[bool, str]]]
Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Due:
    entry: Entry
    due: float
    mark: str
    missed: bool
    first_missed: float = 0.0


def when(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


class Scheduler:
    def __init__(
        self,
        store: ScheduleStore,
        execute: Execute,
        *,
        clock: Callable[[], float] = time.time,
        say: Say = lambda _line: None,
        grace: float = 90.0,
        events: Events | None = None,
    ) -> None:
        self.store = store
        self.execute = execute
        self.clock = clock
        self.say = say
        self.grace = grace  # later than this after its due time, a run counts as missed
        self.events = events  # where finished tasks come from; None: task entries never fire
        self._running: set[asyncio.Task[Run]] = set()

    def due(self, now: float) -> list[Due]:
        found: list[Due] = []
        for entry in self.store.entries():
            if entry.kind == "cron":
                last = float(entry.mark or entry.created)
                due = latest_due(entry.spec, now)
                if due > last:
                    first = next_due(entry.spec, last)  # earlier than ``due``: due times passed unrun
                    found.append(Due(entry, due, str(due), first < due or now - due > self.grace, first))
            elif entry.kind == "task":
                task = self._task_due(entry, now)
                if task is not None:
                    found.append(task)
            else:
                sig = signature(Path(entry.spec))
                if sig != entry.mark:
                    found.append(Due(entry, now, sig, False, now))
        return found

    def _task_due(self, entry: Entry, now: float) -> Due | None:
        """One run for the newest finished task the entry has not run for (its sequence number
        is the run's ``due``, so a claim is unique per event), or None."""
        if self.events is None:
            return None
        try:
            done = self.events.finished(entry.spec, int(entry.mark or 0), entry.created, now)
        except AutoGPTError as exc:
            self.say(f"entry {entry.id} ({entry.line}): {exc}")
            return None
        if not done:
            return None
        first, last = done[0], done[-1]
        return Due(entry, float(last.seq), str(last.seq), now - first.at > self.grace, first.at)

    async def tick(self) -> list[Run]:
        """Claim and start every due run; the claims (started or refused)."""
        now = self.clock()
        claimed: list[Run] = []
        for item in self.due(now):
            run = self.store.claim(item.entry, item.due, item.mark, item.missed, now)
            if run is None:
                continue
            claimed.append(run)
            label = f"entry {item.entry.id} ({item.entry.line})"
            if run.outcome == "refused":
                self.say(f"run #{run.id} of {label} {run.output}")
                continue
            if item.missed:
                since = when(item.first_missed)
                self.say(f"run #{run.id} of {label}: missed since {since} while no scheduler ran; running it once now")
            else:
                self.say(f"run #{run.id} of {label} started")
            task = asyncio.create_task(self._run(run, item.entry), name=f"schedule-run-{run.id}")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return claimed

    async def _run(self, run: Run, entry: Entry) -> Run:
        try:
            ok, output = await self.execute(entry.line)
        except AutoGPTError as exc:
            ok, output = False, f"error: {exc}"
        except Exception as exc:  # a run's failure is a result; the scheduler goes on
            ok, output = False, f"internal error: {type(exc).__name__}: {exc}"
        done = self.store.finish(run.id, ok, output, self.clock())
        first = output.strip().splitlines()[0][:100] if output.strip() else ""
        self.say(f"run #{run.id} of entry {entry.id} {done.outcome}: {first}")
        return done

    async def drain(self) -> None:
        """Wait for the runs in flight."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def serve(self, stop: asyncio.Event, interval: float = 30.0) -> None:
        """Tick every ``interval`` seconds until ``stop`` is set, then let runs finish."""
        try:
            while not stop.is_set():
                await self.tick()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)
        finally:
            await self.drain()
