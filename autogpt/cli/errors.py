"""How errors look at the command line: one line, a hint, an exit code; never a traceback
unless the log level is debug."""

from __future__ import annotations

import os
import sys
import traceback

import click

from autogpt.errors import AutoGPTError, UsageError

EXIT_FAILURE = 1
EXIT_USAGE = 2


def exit_code_for(exc: BaseException) -> int:
    return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_FAILURE


def report(exc: BaseException) -> None:
    if isinstance(exc, AutoGPTError):
        click.echo(f"error: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"hint: {exc.hint}", err=True)
    else:
        click.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("hint: rerun with AUTOGPT_LOG_LEVEL=debug for the traceback", err=True)
    if os.environ.get("AUTOGPT_LOG_LEVEL", "").lower() == "debug":
        traceback.print_exception(exc, file=sys.stderr)
