"""``autogpt``: the command line. Kept import-light so ``--help`` stays fast; each command's
module is imported only when that command runs."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

# name -> (module:function, one-line help). Help text lives here so listing commands
# does not import them.
COMMANDS: dict[str, tuple[str, str]] = {
    "build": (
        "autogpt.cli.build:build",
        'Build a project from an idea with the team (build "IDEA"), or, in an agent\'s folder, its code.',
    ),
    "new": ("autogpt.cli.custom:new", "Create a custom agent's folder (agent.yaml, README)."),
    "run": ("autogpt.cli.custom:run", "Open a console on a custom agent (--net: serve it for orchgpt)."),
    "test": ("autogpt.cli.custom:test", "Run a custom agent's examples and report (exit 1 on a failure)."),
    "gen": ("autogpt.cli.act:gen", "Open a console with GenericGPT (-p TASK: act on the workspace and exit)."),
    "mcp": ("autogpt.cli.mcp:mcp", "MCP: add, list, inspect and call servers' tools; serve the team (mcp serve)."),
    "man": ("autogpt.cli.console:man", "Open a console with ManagerGPT (the whole team behind it)."),
    "arch": ("autogpt.cli.console:arch", "Open a console with ArchitectGPT."),
    "back": ("autogpt.cli.console:back", "Open a console with BackendGPT."),
    "front": ("autogpt.cli.console:front", "Open a console with FrontendGPT (a page checked in headless Chromium)."),
    "design": ("autogpt.cli.console:design", "Open a console with DesignerGPT (palette, type, wireframe)."),
    "git": ("autogpt.cli.console:git", "Open a console with GitGPT (init, commit, log)."),
    "opt": (
        "autogpt.cli.console:opt",
        "Open a console with OptimizerGPT (a refactor kept only if the project's checks still pass).",
    ),
    "schedule": ("autogpt.cli.schedule:schedule", "Run agent commands on a cron line or when a file changes."),
    "proto": (
        "autogpt.cli.main:proto",
        "Print the path of the protocol's .proto file (for clients in other languages).",
    ),
    "mail": ("autogpt.cli.console:mail", "Open a console with MailerGPT (summarise threads, draft, /send)."),
}

PROVIDER_CHOICES = ("auto", "embedded", "openai", "anthropic", "gemini", "xai", "scripted")


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, _, attr = entry[0].partition(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_text) for name, (_, help_text) in sorted(COMMANDS.items())])


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "-p",
    "--prompt",
    metavar="PROMPT",
    help="Answer one prompt with GenericGPT, streamed, and exit ('-': read it from standard input).",
)
@click.option("--provider", type=click.Choice(PROVIDER_CHOICES), help="LLM provider [env AUTOGPT_PROVIDER].")
@click.option("--model", metavar="NAME", help="Model name, or a .gguf path for the embedded provider.")
@click.option("--base-url", metavar="URL", help="OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp server).")
@click.option(
    "--workspace", type=click.Path(file_okay=False), help="Folder agents may write into [default: ./workspace]."
)
@click.option(
    "--log-level", type=click.Choice(["debug", "info", "warning", "error"]), help="Log level [default: warning]."
)
@click.option("--net", is_flag=True, help="Networked mode: talk to agents through orchgpt.")
@click.option("--agent", "net_agent", metavar="ROLE", help="With --net: serve this role (e.g. backend) for orchgpt.")
@click.option("--orchestrator", metavar="HOST:PORT", help="orchgpt address [default: localhost:8443].")
@click.option("--certs", type=click.Path(file_okay=False), help="Folder with ca.pem and NAME.pem/NAME.key.")
@click.option("--cert-name", metavar="NAME", help="Certificate to use [default: the role, or user].")
@click.option("-c", "--command", "net_commands", multiple=True, metavar="LINE", help="With --net: run LINE and exit.")
@click.version_option(package_name="autogpt-team", prog_name="autogpt")
@click.pass_context
def cli(
    ctx: click.Context,
    /,
    prompt: str | None,
    net: bool,
    net_agent: str | None,
    net_commands: tuple[str, ...],
    **overrides: Any,
) -> None:
    """A team of specialist LLM agents that turns an idea into working software.

    With no API key the embedded local model answers, offline. Examples:

    \b
      autogpt -p "write a function that parses ISO dates"
      autogpt gen
      autogpt new haiku && cd haiku && autogpt build && autogpt test && autogpt run
      autogpt --provider openai --model gpt-4o-mini -p "hello"
      autogpt --net --agent backend --orchestrator host:8443
      autogpt --net -c '/architect create "fastapi app" | python'
    """
    ctx.obj = {k: v for k, v in overrides.items() if v is not None}
    if ctx.invoked_subcommand is not None:
        return
    if net or net_agent or net_commands:
        if not net:
            raise click.UsageError("--agent and -c belong to networked mode: add --net")
        from autogpt.cli.netmode import run_net

        ctx.exit(run_net(ctx.obj, net_agent, net_commands))
    if prompt is None:
        click.echo(ctx.get_help())
        return
    if prompt == "-":
        prompt = sys.stdin.read()
        if not prompt.strip():
            raise click.UsageError("-p - reads the prompt from standard input, which was empty")
    from autogpt.cli.oneshot import run_prompt

    ctx.exit(run_prompt(prompt, ctx.obj))


@click.command("proto")
def proto() -> None:
    """Print the path of the installed iac.proto (protoc -I its grandparent folder)."""
    from autogpt.iac import PROTO

    click.echo(str(PROTO))


def main() -> None:
    """Console entry point: usage and runtime errors become one line and an exit code."""
    from autogpt.cli.errors import exit_code_for, report

    try:
        # NO_COLOR (https://no-color.org): click strips its styles, rich reads it itself
        code = cli.main(standalone_mode=False, color=False if os.environ.get("NO_COLOR") else None)
        sys.exit(code if isinstance(code, int) else 0)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        report(exc)
        sys.exit(exit_code_for(exc))
