"""``autogpt schedule``: add, list, remove and run scheduled commands."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from pathlib import Path
from typing import Any

import click

from autogpt.cli.runtime import settings_from
from autogpt.config import Settings
from autogpt.schedule.store import Entry, ScheduleStore


def _store(settings: Settings) -> ScheduleStore:
    return ScheduleStore(Path(settings.data_dir) / "schedule.db")


@click.group("schedule", help="Run agent commands on a cron line or when a file changes.")
def schedule() -> None:
    pass


@schedule.command("add")
@click.argument("when", metavar="CRON|PATH|ROLE")
@click.argument("line", metavar='"/AGENT ACTION INPUT"')
@click.option("--on-change", is_flag=True, help="WHEN is a file or folder: run LINE each time it changes.")
@click.option("--on-task", is_flag=True, help="WHEN is 'ROLE' or 'ROLE ACTION': run LINE after such a task finishes.")
@click.pass_context
def add(ctx: click.Context, when: str, line: str, on_change: bool, on_task: bool) -> None:
    """Add an entry: autogpt schedule add "0 9 * * 1-5" "/gen run summarise yesterday's log"."""
    from autogpt.errors import InvalidInputError
    from autogpt.schedule.execute import check_line

    settings = settings_from(ctx.obj or {})
    if on_change and on_task:
        raise InvalidInputError("--on-change and --on-task exclude each other")
    check_line(line)
    entry = _store(settings).add("file" if on_change else "task" if on_task else "cron", when, line)
    click.echo(f"added entry {entry.id}: {_trigger(entry)} -> {entry.line}")


def _trigger(entry: Entry) -> str:
    return {"file": f"on change of {entry.spec}", "task": f"after a {entry.spec} task"}.get(entry.kind, entry.spec)


@schedule.command("list")
@click.pass_context
def list_entries(ctx: click.Context) -> None:
    """The entries and the outcome of each one's latest run."""
    store = _store(settings_from(ctx.obj or {}))
    entries = store.entries()
    for entry in entries:
        last = store.runs(entry.id, limit=1)
        state = (
            f"last run #{last[0].id} {last[0].outcome}{' (missed)' if last[0].missed else ''}" if last else "never run"
        )
        click.echo(f"{entry.id:>3}  {_trigger(entry):<20} {entry.line}  [{state}]")
    if not entries:
        click.echo('no entries (add one: autogpt schedule add "*/30 * * * *" "/gen run ...")')


@schedule.command("remove")
@click.argument("entry_id", type=int, metavar="ID")
@click.pass_context
def remove(ctx: click.Context, entry_id: int) -> None:
    entry = _store(settings_from(ctx.obj or {})).remove(entry_id)
    click.echo(f"removed entry {entry.id}: {entry.spec} -> {entry.line}")


@schedule.command("runs")
@click.option("--entry", "entry_id", type=int, help="Only this entry's runs.")
@click.pass_context
def runs(ctx: click.Context, entry_id: int | None) -> None:
    """Recent runs and their outcomes."""
    for run in _store(settings_from(ctx.obj or {})).runs(entry_id):
        first = run.output.strip().splitlines()[0][:80] if run.output.strip() else ""
        click.echo(f"#{run.id:<4} entry {run.entry:<3} {run.outcome:<8}{' missed' if run.missed else ''}  {first}")


@schedule.command("run")
@click.option("--net", is_flag=True, help="Send each line through orchgpt, as `autogpt --net -c LINE` would.")
@click.option("--once", is_flag=True, help="Run what is due now, wait for it, and exit.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds per check.")
@click.option("--now", "now", type=float, hidden=True, help="Pretend the clock reads this (epoch seconds).")
@click.option(
    "--ledger", type=click.Path(dir_okay=False, path_type=Path),
    help="With --net: orchgpt's task ledger, where --on-task entries see finished tasks "
    "[default: ORCHGPT_LEDGER, else ~/.local/share/orchgpt/ledger.sqlite3].",
)  # fmt: skip
@click.pass_context
def run(ctx: click.Context, net: bool, once: bool, interval: float, now: float | None, ledger: Path | None) -> None:
    """The long-lived scheduler process (Ctrl-C stops it after the runs in flight)."""
    from autogpt.schedule import execute
    from autogpt.schedule.events import Events, LedgerEvents
    from autogpt.schedule.runner import Scheduler

    settings = settings_from(ctx.obj or {})
    executor = execute.networked(settings) if net else execute.standalone(settings)
    clock = (lambda: now) if now is not None else time.time

    def say(line: str) -> None:
        click.echo(f"{time.strftime('%H:%M:%S')} {line}", err=True)

    store = _store(settings)
    if net:
        from orchgpt.config import load_orch_settings

        events: Events = LedgerEvents(ledger or load_orch_settings().ledger)
    else:
        events = store.events()
    scheduler = Scheduler(store, executor, clock=clock, say=say, events=events)
    ctx.exit(asyncio.run(_serve(scheduler, once, interval)))


async def _serve(scheduler: Any, once: bool, interval: float) -> int:
    if once:
        claimed = await scheduler.tick()
        await scheduler.drain()
        failed = [r for r in claimed if scheduler.store.run(r.id).outcome != "ok"]
        return 1 if failed else 0
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    scheduler.say(f"scheduler running ({len(scheduler.store.entries())} entries); Ctrl-C stops")
    await scheduler.serve(stop, interval)
    return 0
