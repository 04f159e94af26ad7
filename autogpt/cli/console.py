"""Single-agent consoles (``autogpt gen``, ...): a prompt with history, streamed answers.

Plain lines go to the agent's main action (``run`` for GenericGPT, ``create`` for the
builders; the agent decides); ``/action text`` calls another action (``/plan``,
``/create``, ``/help`` lists them, ``/status``). Ctrl-C stops the answer in progress and
keeps the console; Ctrl-D or ``/exit`` leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from autogpt.agents.base import Agent
from autogpt.cli.errors import report
from autogpt.cli.lines import tokenize
from autogpt.cli.runtime import Standalone, settings_from, summary_line
from autogpt.cli.sessions import describe_session, pick_session, session_word
from autogpt.errors import AutoGPTError, InvalidInputError
from autogpt.iac.envelope import Command, Result, State, Status
from autogpt.sessions import SessionStore

EXIT_WORDS = {"/exit", "/quit", ":q"}


def parse_line(line: str) -> Command:
    """``text`` -> run; ``/action rest [| language]`` -> that action."""
    text = line.strip()
    if not text.startswith("/"):
        return Command("run", text)
    parsed = tokenize(text[1:], leading=1)
    if not parsed.words:
        raise InvalidInputError("an action name must follow '/'", hint="try /help")
    return Command(parsed.words[0], parsed.input, parsed.language)


class _Printer:
    """Shows streamed text as it arrives and other status as dim one-liners."""

    def __init__(self) -> None:
        self.streamed = False

    def __call__(self, status: Status) -> None:
        if status.delta:
            self.streamed = True
            sys.stdout.write(status.delta)
            sys.stdout.flush()
        elif status.message and status.state not in (State.ACCEPTED,):
            click.echo(click.style(f"  · {status.message}", dim=True), err=True)


def _history_file(data_dir: Path, role: str) -> Path | None:
    try:
        folder = data_dir / "history"
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder / f"{role}.txt"


def _setup_readline(path: Path | None) -> None:
    try:
        import readline
    except ImportError:  # pragma: no cover - not on every platform
        return
    if path is not None:
        with contextlib.suppress(OSError):
            readline.read_history_file(path)
        readline.set_history_length(1000)

        def save() -> None:
            with contextlib.suppress(OSError):
                readline.write_history_file(path)

        import atexit

        atexit.register(save)


def run_console(
    agent_cls: type[Agent],
    overrides: dict[str, Any],
    helpers: tuple[type[Agent], ...] = (),
    session: str | None = None,
    resume_last: bool = False,
    command_args: dict[str, Any] | None = None,
    prepare: Callable[[Standalone], None] | None = None,
) -> int:
    settings = settings_from(overrides)
    interactive = sys.stdin.isatty()
    sessions = SessionStore(settings.data_dir / "sessions", agent_cls.role)
    session_id = pick_session(sessions, session, resume_last)
    team = Standalone(settings, agent_cls, helpers=helpers, session_id=session_id)
    with asyncio.Runner() as runner:
        runner.run(team.start())
        assert team.agent is not None
        if prepare is not None:
            prepare(team)
        describe_session(sessions, team.session_id)
        if interactive:
            # A shell that starts us in the background leaves SIGINT ignored; at a terminal,
            # Ctrl-C must stop the answer, so take it back.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            _setup_readline(_history_file(settings.data_dir, agent_cls.role))
            click.echo(
                f"{agent_cls.name} on {team.agent.llm.provider}:{team.agent.llm.model}. "
                "Type a request, /help for actions, Ctrl-C stops an answer, Ctrl-D leaves."
            )
        failures = 0
        try:
            while True:
                try:
                    line = input(f"{agent_cls.role}> " if interactive else "")
                except EOFError:
                    break
                except KeyboardInterrupt:
                    click.echo("")
                    continue
                if not line.strip():
                    continue
                if line.strip() in EXIT_WORDS:
                    break
                if session_word(line, team, sessions):
                    continue
                failures += 0 if _one_turn(runner, team, line, command_args or {}) else 1
        finally:
            runner.run(team.stop())
    if interactive:
        click.echo("bye")
    return 1 if failures and not interactive else 0


def _one_turn(runner: asyncio.Runner, team: Standalone, line: str, args: dict[str, Any]) -> bool:
    printer = _Printer()
    started = time.monotonic()
    try:
        command = parse_line(line)
        if args:
            command = dataclasses.replace(command, args={**args, **command.args})
        result: Result = runner.run(team.ask(command, on_status=printer))
    except KeyboardInterrupt:
        # The Runner cancelled our wait; tell the agent to stop generating too.
        runner.run(team.ask(Command("terminate")))
        click.echo("\n[stopped]", err=True)
        return True
    except AutoGPTError as exc:
        report(exc)
        return False
    if printer.streamed:
        if not result.output.endswith("\n"):
            click.echo("")
    else:
        click.echo(result.output)
    if sys.stderr.isatty() and team.agent is not None:
        click.echo(click.style(summary_line(team.agent.llm, team.meter, started), dim=True), err=True)
    return result.ok


def console_command(role: str, helpers: tuple[str, ...] = ()) -> click.Command:
    """``autogpt <short>``: a console with one agent of the catalog (and the helpers it needs)."""
    from autogpt.agents.catalog import agent_class, find_role

    spec = find_role(role)

    @click.command(spec.short, help=f"Open a console with {spec.name} ({spec.summary}).")
    @click.option("-s", "--session", metavar="ID", help="Resume session ID (or start it under that id).")
    @click.option("--continue", "resume_last", is_flag=True, help="Resume this agent's latest session.")
    @click.pass_context
    def command(ctx: click.Context, session: str | None, resume_last: bool) -> None:
        team = tuple(agent_class(find_role(h)) for h in helpers)
        ctx.exit(run_console(agent_class(spec), ctx.obj or {}, helpers=team, session=session, resume_last=resume_last))

    return command


gen = console_command("generic")
man = console_command("manager", ("architect", "backend", "designer", "frontend", "git"))
arch = console_command("architect")
back = console_command("backend")
front = console_command("frontend")
design = console_command("designer")
git = console_command("git")
opt = console_command("optimizer", ("git",))  # GitGPT commits what is kept


@click.command("mail", help="Open a console with MailerGPT: read and summarise threads, draft replies, /send.")
@click.option("--yes", is_flag=True, help="Send each reply as soon as it is drafted (no /send needed).")
@click.pass_context
def mail(ctx: click.Context, yes: bool) -> None:
    from autogpt.agents.mailer import MailerGPT

    ctx.exit(run_console(MailerGPT, ctx.obj or {}, command_args={"send": True} if yes else None))
