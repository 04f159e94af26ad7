"""``orchgpt tasks``: read the task ledger (what was asked of whom, and how it ended)."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import click

from orchgpt.ledger import STATES


@click.command("tasks")
@click.option(
    "--ledger", type=click.Path(dir_okay=False, path_type=Path),
    help="The ledger file [default: ORCHGPT_LEDGER, else ~/.local/share/orchgpt/ledger.sqlite3].",
)  # fmt: skip
@click.option("--state", type=click.Choice(STATES), help="Only requests in this state.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=20, show_default=True, help="Newest N requests.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def tasks(ledger: Path | None, state: str | None, limit: int, as_json: bool) -> None:
    """The newest requests orchgpt routed: who asked, which agent took it, how it ended."""
    from autogpt.cli.errors import exit_code_for, report
    from autogpt.cli.printable import printable
    from autogpt.errors import AutoGPTError
    from orchgpt.config import load_orch_settings
    from orchgpt.ledger import counts, read_entries

    try:
        path = ledger or load_orch_settings().ledger
        entries = read_entries(path, state=state, limit=limit)
        totals = counts(path)
    except AutoGPTError as exc:
        report(exc)
        sys.exit(exit_code_for(exc))
    if as_json:
        for entry in entries:
            click.echo(json.dumps({**asdict(entry), "seconds": entry.seconds}, separators=(",", ":")))
        return
    click.echo(f"{'STARTED':<19} {'STATE':<11} {'SECONDS':>8}  {'FROM':<14} {'AGENT':<14} WHAT")
    for e in entries:  # every field a peer wrote is escaped: nothing raw reaches the terminal
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.created_us / 1e6))
        seconds = "" if e.seconds is None else f"{e.seconds:.1f}"
        what = printable(e.what, newlines=False)[:60]
        if e.error:
            what += f"  [{printable(e.error, newlines=False)[:60]}]"
        who, agent = printable(e.requester, newlines=False), printable(e.agent or e.recipient, newlines=False)
        click.echo(f"{started:<19} {e.state:<11} {seconds:>8}  {who:<14} {agent:<14} {what}")
    summary = ", ".join(f"{totals[s]:,} {s}" for s in STATES if totals.get(s))
    click.echo(f"{len(entries)} shown; in the ledger: {summary or 'nothing yet'} ({path})")
