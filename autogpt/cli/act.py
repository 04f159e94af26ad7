"""``autogpt gen``: GenericGPT's console, and ``gen -p TASK``, GenericGPT acting on the workspace.

Acting (``-p``, or ``/do TASK`` in the console) shows the plan and every command it will run
and asks before anything changes; ``--yolo`` skips asking. Without a terminal to ask on and
without ``--yolo`` it refuses at once and changes nothing. Plain console lines still chat.
The exit code of ``-p`` is 0 only when the task is done and the project's tests pass. Run
inside a project with no ``--workspace``, ``-p`` acts on that project.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import click

from autogpt.cli.errors import exit_code_for, report
from autogpt.errors import AutoGPTError


async def ask_terminal(question: str) -> bool:
    """The approver of a person at a terminal: the question, then y/N."""
    click.echo(question, err=True)
    try:
        answer = await asyncio.to_thread(input, "Go ahead? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _show(status: Any) -> None:
    if status.message and status.state.name != "ACCEPTED":
        click.echo(click.style(f"  · {status.message}", dim=True), err=True)


async def _act(task: str, overrides: dict[str, Any], yolo: bool, interactive: bool) -> int:
    from autogpt.agents.generic import GenericGPT
    from autogpt.cli.runtime import Standalone, settings_from
    from autogpt.iac.envelope import Command

    settings = settings_from(overrides)
    team = Standalone(settings, GenericGPT)
    await team.start()
    try:
        assert isinstance(team.agent, GenericGPT)
        team.agent.approver = ask_terminal if interactive else None
        result = await team.ask(Command("do", task, args={"yolo": yolo}), on_status=_show)
    finally:
        await team.stop()
    click.echo(result.output)
    return 0 if result.ok else 1


_PROJECT_MARKS = ("pyproject.toml", "package.json", "setup.py", "Makefile", ".git")


def project_here(overrides: dict[str, Any], cwd: Path) -> Path | None:
    """The project ``gen -p`` acts on when no workspace is named: the current folder, when it
    holds a project (a manifest, a Makefile or a git repository). Run inside a project, a
    coding agent changes that project, not a ./workspace folder beside its files."""
    if "workspace" in overrides or os.environ.get("AUTOGPT_WORKSPACE"):
        return None
    return cwd if any((cwd / mark).exists() for mark in _PROJECT_MARKS) else None


def run_task(task: str, overrides: dict[str, Any], yolo: bool) -> int:
    from autogpt.agents.acting import refusal

    try:
        interactive = sys.stdin.isatty()
        if not yolo and not interactive:
            raise refusal()  # before a model is loaded or a file is looked at
        if (here := project_here(overrides, Path.cwd())) is not None:
            click.echo(f"acting on the project in {here} (--workspace DIR for another folder)", err=True)
            overrides = {**overrides, "workspace": str(here)}
        return asyncio.run(_act(task, overrides, yolo, interactive))
    except AutoGPTError as exc:
        report(exc)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        click.echo("[stopped: the running command was killed; files are whole]", err=True)
        return 130


@click.command("gen", help="Open a console with GenericGPT; with -p TASK, act on the workspace and exit.")
@click.option("-s", "--session", metavar="ID", help="Resume session ID (or start it under that id).")
@click.option("--continue", "resume_last", is_flag=True, help="Resume this agent's latest session.")
@click.option(
    "-p", "--prompt", "task", metavar="TASK",
    help="Change the workspace (run in a project: that project): plan, approve, act, test, report.",
)  # fmt: skip
@click.option("--yolo", is_flag=True, help="Act without asking for approval (the plan is still shown).")
@click.pass_context
def gen(ctx: click.Context, session: str | None, resume_last: bool, task: str | None, yolo: bool) -> None:
    if task is not None:
        ctx.exit(run_task(task, ctx.obj or {}, yolo))
    from autogpt.agents.generic import GenericGPT
    from autogpt.cli.console import run_console
    from autogpt.cli.runtime import Standalone

    def prepare(team: Standalone) -> None:
        if isinstance(team.agent, GenericGPT):
            team.agent.approver = ask_terminal if sys.stdin.isatty() else None

    args = {"yolo": True} if yolo else None
    ctx.exit(
        run_console(GenericGPT, ctx.obj or {}, session=session, resume_last=resume_last, command_args=args,
                    prepare=prepare)
    )  # fmt: skip
