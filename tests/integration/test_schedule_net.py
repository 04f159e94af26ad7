"""The scheduler sending its lines through a real orchgpt (mutual TLS, certificates per test),
on a pretend clock: cron entries on time, task entries fed by orchgpt's task ledger, and
restarts that neither lose nor repeat a run."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from autogpt.config import load_settings
from autogpt.iac.envelope import Address, Command
from autogpt.schedule import execute
from autogpt.schedule.events import LedgerEvents
from autogpt.schedule.runner import Scheduler
from autogpt.schedule.store import ScheduleStore
from orchgpt.ledger import read_entries
from orchgpt.server import Orchestrator

if TYPE_CHECKING:
    from conftest import Net

T0 = datetime(2030, 1, 7, 8, 0, 30, tzinfo=UTC).timestamp()  # a Monday, 08:00:30


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def scheduler(orch: Orchestrator, pki: Path, data: Path, clock: Clock) -> Scheduler:
    """What ``autogpt schedule run --net`` builds, as the user ``alice``; a new one is a restart."""
    settings = load_settings(orchestrator=f"localhost:{orch.port}", certs=pki, cert_name="alice", data_dir=data)
    events = LedgerEvents(orch.settings.ledger, settle=1.0)
    return Scheduler(ScheduleStore(data / "schedule.db"), execute.networked(settings), clock=clock, events=events)


async def asked(orch: Orchestrator, recipient: str) -> list[str]:
    """What the ledger says was asked of ``recipient`` and how it ended, oldest first."""
    await orch.ledger.flush()
    entries = read_entries(orch.settings.ledger, limit=1000)
    return [f"{e.what} {e.state}" for e in reversed(entries) if e.recipient == recipient]


async def test_cron_entries_run_on_time_through_orchgpt_and_a_restart_neither_loses_nor_repeats(
    orchestrator: Orchestrator, net: Net, pki: Path, tmp_path: Path
) -> None:
    await net.echo(orchestrator, "back1")
    clock = Clock(T0)
    first = scheduler(orchestrator, pki, tmp_path / "data", clock)
    first.store.add("cron", "*/5 * * * *", "/back run tick", now=T0)
    assert await first.tick() == []  # 08:00 came before the entry did
    clock.now = T0 + 4 * 60 + 40  # 08:05:10
    (run,) = await first.tick()
    await first.drain()
    done = first.store.run(run.id)
    assert (done.outcome, done.output, done.missed) == ("ok", "tick", False)
    assert await asked(orchestrator, "role:backend") == ["run tick done"]
    first.store.close()  # the scheduler stops ...

    clock.now = T0 + 17 * 60  # ... and is down over 08:10 and 08:15
    second = scheduler(orchestrator, pki, tmp_path / "data", clock)
    (late,) = await second.tick()
    await second.drain()
    assert second.store.run(late.id).outcome == "ok"
    assert second.store.run(late.id).missed  # run once for the two, and flagged
    third = scheduler(orchestrator, pki, tmp_path / "data", clock)  # a restart at the same moment
    assert await third.tick() == []
    assert [r.outcome for r in third.store.runs()] == ["ok", "ok"]
    assert await asked(orchestrator, "role:backend") == ["run tick done", "run tick done"]


async def test_a_task_entry_follows_the_ledger_and_runs_its_line_through_orchgpt(
    orchestrator: Orchestrator, net: Net, pki: Path, tmp_path: Path
) -> None:
    await net.echo(orchestrator, "back1")
    await net.echo(orchestrator, "gen1")
    clock = Clock(time.time())
    sched = scheduler(orchestrator, pki, tmp_path / "data", clock)
    sched.store.add("task", "backend build", "/gen run review what the backend built", now=time.time())
    user = await net.session(orchestrator, "alice")
    await user.bus.call(Address.role("backend"), Command("status", "ping"), timeout=10)  # not a build
    await user.bus.call(Address.role("backend"), Command("build", "a shop"), timeout=10)
    await orchestrator.ledger.flush()
    (build,) = [e for e in read_entries(orchestrator.settings.ledger) if e.what == "build a shop"]
    assert build.finished_us is not None
    clock.now = build.finished_us / 1e6 + 0.9
    assert await sched.tick() == []  # not settled yet (1 s): a row could still be on its way
    clock.now = build.finished_us / 1e6 + 1.0
    (run,) = await sched.tick()
    await sched.drain()
    assert (sched.store.run(run.id).outcome, sched.store.run(run.id).output) == (
        "ok",
        "review what the backend built",
    )
    assert await asked(orchestrator, "role:generic") == ["run review what the backend built done"]
    restarted = scheduler(orchestrator, pki, tmp_path / "data", clock)
    assert await restarted.tick() == []  # that build is done with, across a restart
    assert len(restarted.store.runs()) == 1


async def test_the_cli_runs_what_is_due_through_orchgpt(
    orchestrator: Orchestrator, net: Net, pki: Path, tmp_path: Path
) -> None:
    await net.echo(orchestrator, "back1")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "ORCHGPT_"))}
    env.update(
        AUTOGPT_DATA_DIR=str(tmp_path / "data"),
        AUTOGPT_ORCHESTRATOR=f"localhost:{orchestrator.port}",
        AUTOGPT_CERTS=str(pki),
        AUTOGPT_CERT_NAME="alice",
        AUTOGPT_EMBEDDER="hash",
    )

    async def cli(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "autogpt", "schedule", *args, env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode or 0, out.decode()

    assert (await cli("add", "0 * * * *", "/back run hourly report"))[0] == 0
    later = str(time.time() + 3600)
    code, out = await cli("run", "--net", "--once", "--now", later, "--ledger", str(orchestrator.settings.ledger))
    assert code == 0, out
    assert "run #1 of entry 1 ok: hourly report" in out
    code, out = await cli("run", "--net", "--once", "--now", later, "--ledger", str(orchestrator.settings.ledger))
    assert (code, "run #" in out) == (0, False)  # a second scheduler at the same time: nothing twice
    assert await asked(orchestrator, "role:backend") == ["run hourly report done"]
    code, out = await cli("runs")
    assert "#1    entry 1   ok" in out
