"""``orchgpt serve``: run the orchestrator until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click


@click.command("serve")
@click.option("--listen", metavar="HOST:PORT", help="Address to listen on [default: 0.0.0.0:8443; env ORCHGPT_LISTEN].")
@click.option("--certs", type=click.Path(file_okay=False, path_type=Path), help="TLS folder [default: certs].")
@click.option("--heartbeat-timeout", type=float, help="Seconds of silence before a peer is dropped [default: 30].")
@click.option("--grace", type=float, help="Seconds in-flight streams get on shutdown [default: 5].")
@click.option(
    "--ledger", type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite task ledger [default: ~/.local/share/orchgpt/ledger.sqlite3; env ORCHGPT_LEDGER].",
)  # fmt: skip
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), help="[default: info]")
@click.option(
    "--log-format", type=click.Choice(["auto", "console", "json"]),
    help="[default: auto: console on a terminal, else JSON lines]",
)  # fmt: skip
@click.option("--metrics", metavar="HOST:PORT", help="Serve Prometheus metrics at /metrics there [default: off].")
@click.option("--web", metavar="HOST:PORT", help="Serve the read-only live view there [default: off].")
def serve(**overrides: object) -> None:
    """Serve IAC over mutual TLS: route envelopes between agent processes."""
    from autogpt.cli.errors import exit_code_for, report
    from autogpt.errors import AutoGPTError
    from autogpt.logs import configure_logging
    from orchgpt.config import load_orch_settings
    from orchgpt.pauses import settle
    from orchgpt.server import Orchestrator

    try:
        settings = load_orch_settings(**overrides)
        configure_logging(settings.log_level, settings.log_format)
        orchestrator = Orchestrator(settings)

        async def run() -> None:
            await orchestrator.start()
            settle()  # what start-up made lives as long as we do: out of every later collection
            host = settings.listen.rsplit(":", 1)[0]
            # The bound port on stdout: scripts and tests start us on port 0 and read it.
            print(f"orchgpt listening on {host}:{orchestrator.port}", flush=True)
            for what, url in orchestrator.urls().items():
                print(f"orchgpt {what} at {url}", flush=True)
            await orchestrator.serve_forever()

        asyncio.run(run())
    except AutoGPTError as exc:
        report(exc)
        sys.exit(exit_code_for(exc))


@click.command("up")
@click.option(
    "--roles", default="manager,architect,backend,designer,frontend,git", show_default=True,
    help="Comma-separated roles.",
)  # fmt: skip
@click.option(
    "--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("team-certs"), show_default=True,
    help="Certificates for this local team (made when missing).",
)  # fmt: skip
@click.option("--listen", default="127.0.0.1:0", show_default=True, help="Where orchgpt listens.")
@click.option("--workspace", type=click.Path(file_okay=False, path_type=Path), default=Path("workspace"))
def up(roles: str, folder: Path, listen: str, workspace: Path) -> None:
    """Start a whole local team (orchgpt + one agent process per role); Ctrl-C stops all."""
    from autogpt.agents.catalog import agent_class, find_role
    from autogpt.cli.errors import exit_code_for, report
    from autogpt.errors import AutoGPTError
    from orchgpt.supervisor import run_team

    try:
        wanted = [find_role(r).role for r in roles.split(",") if r.strip()]
        for role in wanted:
            agent_class(find_role(role))  # refuse roles that are not built yet, before starting anything
        sys.exit(asyncio.run(run_team(folder, wanted, listen, workspace)))
    except AutoGPTError as exc:
        report(exc)
        sys.exit(exit_code_for(exc))
