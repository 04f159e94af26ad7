"""``autogpt build IDEA``: the whole team in one process, with a live view of the work."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from autogpt.cli.errors import exit_code_for, report
from autogpt.errors import AutoGPTError, InvalidInputError
from autogpt.iac.envelope import Command, Status, TaskProgress
from autogpt.llm.usage import UsageMeter

_STYLE = {"pending": "dim", "running": "yellow", "waiting": "magenta", "done": "green", "failed": "red"}


@dataclass
class Row:
    role: str
    state: str = "pending"
    step: str = ""
    started: float = 0.0
    ended: float = 0.0


@dataclass
class BuildView:
    """Follows ManagerGPT's typed progress: a row per planned task, and the latest other
    status line (acceptance, planning) in the footer."""

    meter: UsageMeter
    started: float = field(default_factory=time.monotonic)
    rows: dict[str, Row] = field(default_factory=dict)
    step: str = "starting"

    def update(self, status: Status) -> None:
        if status.task is not None:
            self._follow(status.task)
        elif status.message:
            self.step = status.message

    def _follow(self, progress: TaskProgress) -> None:
        for item in progress.plan:
            self.rows.setdefault(item.task_id, Row(role=item.role))
        if not progress.task_id:
            return
        now = time.monotonic()
        row = self.rows.setdefault(progress.task_id, Row(role=progress.role))
        if progress.state == "running" and not row.started:
            row.started = now
        if progress.state in ("done", "failed"):
            row.ended = now
        elif row.ended:  # a retry after a failure: the clock runs again
            row.ended = 0.0
        row.state, row.step = progress.state, progress.step

    def render(self) -> Group:
        table = Table(title="autogpt build", expand=True, title_justify="left")
        for name in ("Task", "Role", "State", "Current step", "Time"):
            table.add_column(name, no_wrap=name != "Current step")
        now = time.monotonic()
        for task_id, row in self.rows.items():
            elapsed = (row.ended or now) - row.started if row.started else 0.0
            table.add_row(
                task_id, row.role, Text(row.state, style=_STYLE.get(row.state, "")), row.step[:90], f"{elapsed:.0f}s"
            )
        usage = self.meter.total
        footer = Text(
            f"{self.step[:100]}  ·  {usage.total_tokens} tokens  ·  {now - self.started:.0f}s elapsed", style="dim"
        )
        return Group(table, footer)

    def plain(self, status: Status) -> None:
        if status.message:
            print(f"[{time.monotonic() - self.started:6.1f}s] {status.message}", file=sys.stderr, flush=True)


FULL_TEAM = ("architect", "backend", "designer", "frontend", "git")
API_TEAM = ("architect", "backend", "git")


async def _build(idea: str, language: str, args: dict[str, Any], overrides: dict[str, Any]) -> int:
    from autogpt.agents.catalog import agent_class, find_role
    from autogpt.agents.manager import ManagerGPT
    from autogpt.cli.runtime import Standalone, settings_from

    settings = settings_from(overrides)
    roles = API_TEAM if args.get("scope") == "api" else FULL_TEAM
    team = Standalone(settings, ManagerGPT, helpers=tuple(agent_class(find_role(r)) for r in roles))
    view = BuildView(team.meter)
    await team.start()
    live_ok = sys.stderr.isatty()
    try:
        if live_ok:
            console = Console(stderr=True)
            with Live(view.render(), console=console, refresh_per_second=4, transient=False) as live:

                def on_status(status: Status) -> None:
                    view.update(status)
                    live.update(view.render())

                result = await team.ask(Command("create", idea, language, args), on_status=on_status)
        else:

            def on_status(status: Status) -> None:
                view.update(status)
                view.plain(status)

            result = await team.ask(Command("create", idea, language, args), on_status=on_status)
    finally:
        await team.stop()
    if sys.stdout.isatty():
        Console().print(Markdown(result.output))
    else:
        print(result.output)
    return 0 if result.ok else 1


@click.command("build")
@click.argument("idea", required=False)
@click.option(
    "--agent",
    "agent_path",
    type=click.Path(exists=True),
    help="Build the custom agent in this folder (the default when no IDEA is given: here).",
)
@click.option("--force", is_flag=True, help="With an agent: regenerate its module even if it was edited.")
@click.option("--lang", "language", type=click.Choice(["python", "javascript"]), default="python", show_default=True)
@click.option(
    "--workspace", type=click.Path(file_okay=False), help="Where the project is written [default: ./workspace]."
)
@click.option("--api-only", "scope", flag_value="api", help="Only the API: no designer, no web page.")
@click.option("--full", "scope", flag_value="full", help="An API and a web page, whatever the idea says.")
@click.option(
    "--accept",
    "accept",
    type=click.Path(dir_okay=False, exists=True),
    help="A JSON file of your own acceptance examples, checked alongside the idea's.",
)
@click.option("--provider", type=click.Choice(["auto", "embedded", "openai", "anthropic", "gemini", "xai", "scripted"]))
@click.option("--model", metavar="NAME", help="Model name, or a .gguf path for the embedded provider.")
@click.option(
    "--role-model",
    "role_models",
    multiple=True,
    metavar="ROLE=MODEL",
    help="A model for one role (repeatable): --role-model architect=qwen2.5-coder-1.5b.",
)
@click.option(
    "--time-limit",
    "time_limit",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Stop starting fix rounds and retries after this long, and fail saying so [default: no limit].",
)
@click.option(
    "--allow-unconfined",
    is_flag=True,
    default=None,
    help="Run generated code even if no confining sandbox works here (the report says so).",
)
@click.pass_context
def build(
    ctx: click.Context,
    /,
    idea: str | None,
    agent_path: str | None,
    force: bool,
    language: str,
    scope: str | None,
    accept: str | None,
    **overrides: Any,
) -> None:
    """Build a working project from IDEA with the whole team; exit 1 unless every
    acceptance example was checked against the running server and held.

    Without --api-only or --full the idea decides: a page when it speaks of one (or of
    nothing in particular), only the API when it names routes or endpoints.

    Without IDEA (or with --agent PATH), build the custom agent whose agent.yaml is here:
    validate it and generate its Python module."""
    if idea is None or agent_path is not None:
        if idea is not None:
            raise click.UsageError("give an IDEA or --agent PATH, not both")
        from autogpt.cli.custom import build_agent

        folder = Path(agent_path or ".")
        if agent_path is None and not (folder / "agent.yaml").is_file():
            raise click.UsageError(
                'what should be built? autogpt build "IDEA" builds a project; in a custom agent\'s folder '
                "(autogpt new NAME makes one), autogpt build builds the agent"
            )
        ctx.exit(build_agent(folder, force))
    overrides["role_models"] = ",".join(overrides.get("role_models") or ()) or None
    if not overrides.pop("allow_unconfined", None):  # absent: AUTOGPT_ALLOW_UNCONFINED still counts
        overrides["allow_unconfined"] = None
    merged = {**(ctx.obj or {}), **{k: v for k, v in overrides.items() if v is not None}}
    try:
        if not idea.strip():
            raise InvalidInputError("the idea is empty", hint='autogpt build "a todo API with FastAPI"')
        args: dict[str, Any] = {"scope": scope or "auto"}
        if accept:
            from autogpt.tools.acceptance import load_acceptance

            text = Path(accept).read_text(encoding="utf-8")
            args["acceptance"] = json.loads(load_acceptance(text).dump())
        ctx.exit(asyncio.run(_build(idea, language, args, merged)))
    except AutoGPTError as exc:
        report(exc)
        ctx.exit(exit_code_for(exc))
