"""``orchgpt``: the orchestrator's command line."""

from __future__ import annotations

import click

from orchgpt.certs_cli import certs
from orchgpt.health_cli import health
from orchgpt.serve_cli import serve, up
from orchgpt.tasks_cli import tasks


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="autogpt-team", prog_name="orchgpt")
def cli() -> None:
    """The orchestrator: routes IAC envelopes between agent processes over mutual TLS."""


cli.add_command(certs)
cli.add_command(health)
cli.add_command(serve)
cli.add_command(up)
cli.add_command(tasks)


def main() -> None:
    cli()
