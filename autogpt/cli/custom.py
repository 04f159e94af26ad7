"""Custom agents from the command line: ``autogpt new``, ``build`` (in an agent's folder),
``run`` and ``test``.

Where the model comes from, strongest first: flags, then agent.yaml's ``provider`` and
``model``, then the environment.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import click

from autogpt.cli.errors import exit_code_for, report
from autogpt.custom.spec import SPEC_FILE, AgentSpec
from autogpt.errors import AutoGPTError, ConfigError, InvalidInputError

_SCAFFOLD = """\
# {name}: a custom autogpt agent. Edit it, then (in this folder):
#   autogpt build    # check this file, generate {module}.py to extend
#   autogpt test     # run the examples below against the model
#   autogpt run      # a console; autogpt run --net serves it for orchgpt as /{role}
name: {name}
role: {role}                     # consoles and orchgpt address it as /{role}
persona: You are {name}, a concise specialist.
system_prompt: |
  You are {name}. Answer briefly and accurately; say so when you are not sure.
# provider: openai             # optional: auto, embedded, openai, anthropic, gemini, xai (flags win)
# model: gpt-4o-mini
capabilities: [llm.chat]         # what it may use: llm.chat, fs.write, exec.run, net.http, mail.send, ...
main_action: answer              # where plain prompts go
actions:
  answer:
    help: answer a question
    prompt: |
      {{input}}
  summarise:
    help: summarise a text in three bullet points
    prompt: |
      Summarise this in three short bullet points:
      {{input}}
examples:                        # autogpt test runs each one and checks the answer
  - input: What is a unit test?
    expect:
      contains: [test]
      max_words: 200
  - action: summarise
    input: Unit tests check one small piece of code in isolation, quickly and often.
    expect:
      matches: "^\\\\s*[-*]"
"""

_README = """\
# {name}

A custom [autogpt](https://pypi.org/project/autogpt-team/) agent, declared in `agent.yaml`.

```sh
autogpt build          # validate agent.yaml, generate {module}.py (a class you can extend)
autogpt test           # run the examples in agent.yaml; exit 1 if one fails
autogpt run            # a console: plain lines go to the main action, /help lists actions
autogpt run --net      # serve it for orchgpt; consoles then reach it as /{role}
pip install -e .       # installed, `autogpt --net --agent {role}` finds it by its role
```
"""


def _names(raw: str) -> tuple[str, str]:
    """``haiku``, ``HaikuGPT`` or ``haiku-gpt`` -> (``HaikuGPT``, ``haiku``)."""
    base = re.sub(r"[-_ ]?gpt$", "", raw.strip(), flags=re.IGNORECASE)
    words = [w for w in re.split(r"[^A-Za-z0-9]+", base) if w]
    if not words or not words[0][0].isalpha():
        raise InvalidInputError(f"{raw!r} is not a usable agent name", hint="e.g. autogpt new haiku")
    role = "-".join(w.lower() for w in words)
    return "".join(w[:1].upper() + w[1:] for w in words) + "GPT", role


def scaffold(target: Path) -> AgentSpec:
    from autogpt.custom.spec import parse_spec

    name, role = _names(target.name)
    if (target / SPEC_FILE).exists():
        raise ConfigError(f"{target / SPEC_FILE} already exists", hint="edit it, or choose another name")
    module = f"{role.replace('-', '_')}_agent"
    text = _SCAFFOLD.format(name=name, role=role, module=module)
    spec = parse_spec(text, str(target / SPEC_FILE))  # a role that clashes is refused before writing
    target.mkdir(parents=True, exist_ok=True)
    (target / SPEC_FILE).write_text(text, encoding="utf-8")
    (target / "README.md").write_text(_README.format(name=name, role=role, module=module), encoding="utf-8")
    return spec


@click.command("new")
@click.argument("name")
def new(name: str) -> None:
    """Create a folder NAME with agent.yaml and a README for a custom agent."""
    try:
        target = Path(name)
        spec = scaffold(target)
    except AutoGPTError as exc:
        report(exc)
        raise SystemExit(exit_code_for(exc)) from None
    click.echo(f"created {target}/{SPEC_FILE} and {target}/README.md for {spec.name} (role {spec.role})")
    click.echo(f"next: cd {target} && autogpt build && autogpt test && autogpt run")


def build_agent(folder: Path, force: bool) -> int:
    """``autogpt build`` without an idea: agent.yaml -> module (and pyproject.toml)."""
    from autogpt.custom.codegen import generate
    from autogpt.custom.spec import load_spec

    try:
        spec = load_spec(folder)
        built = generate(spec, folder if folder.is_dir() else folder.parent, force=force)
    except AutoGPTError as exc:
        report(exc)
        return exit_code_for(exc)
    state = "generated" if built.written else "up to date:"
    click.echo(f"{SPEC_FILE} is valid: {spec.name}, role {spec.role}, actions {', '.join(spec.actions)}")
    click.echo(f"{state} {built.module} (class {spec.name}; extend it freely)")
    if built.pyproject is not None:
        click.echo(f"wrote {built.pyproject} (pip install -e . registers the role {spec.role!r})")
    return 0


def _overrides(ctx: click.Context, spec: AgentSpec, flags: dict[str, Any]) -> dict[str, Any]:
    merged = {k: v for k, v in {"provider": spec.provider, "model": spec.model}.items() if v is not None}
    merged.update(ctx.obj or {})
    merged.update({k: v for k, v in flags.items() if v is not None})
    return merged


_PROVIDERS = click.Choice(["auto", "embedded", "openai", "anthropic", "gemini", "xai", "scripted"])


@click.command("run")
@click.argument("path", type=click.Path(exists=True), default=".")
@click.option("--net", is_flag=True, help="Serve the agent for orchgpt under its role instead of a console.")
@click.option("--provider", type=_PROVIDERS, help="LLM provider (default: agent.yaml's, else the environment).")
@click.option("--model", metavar="NAME", help="Model name (default: agent.yaml's, else the environment).")
@click.option("--workspace", type=click.Path(file_okay=False), help="Folder the agent may write into.")
@click.pass_context
def run(ctx: click.Context, /, path: str, net: bool, **flags: Any) -> None:
    """Open a console on the custom agent in PATH (default: here), or serve it with --net."""
    from autogpt.custom.declared import load_agent

    try:
        spec, agent_cls = load_agent(Path(path))
    except AutoGPTError as exc:
        report(exc)
        ctx.exit(exit_code_for(exc))
    overrides = _overrides(ctx, spec, flags)
    if net:
        from autogpt.cli.netmode import serve_class

        ctx.exit(serve_class(overrides, agent_cls))
    from autogpt.cli.console import run_console

    ctx.exit(run_console(agent_cls, overrides))


async def _examples(spec: AgentSpec, agent_cls: Any, overrides: dict[str, Any]) -> int:
    from autogpt.cli.runtime import Standalone, settings_from
    from autogpt.iac.envelope import Command

    team = Standalone(settings_from(overrides), agent_cls)
    await team.start()
    failed = 0
    try:
        click.echo(f"{spec.name}: {len(spec.examples)} example(s)")
        for number, example in enumerate(spec.examples, 1):
            action = example.action or spec.main
            label = f"{number:>3}  {action:<12} {example.input[:50]!r}"
            try:
                result = await team.ask(Command(action, example.input))
                problems = example.expect.problems(result.output) if result.ok else ["the agent failed"]
            except AutoGPTError as exc:
                problems = [f"error: {exc}"]
            if problems:
                failed += 1
                click.echo(f"  FAIL {label}: {'; '.join(problems)}")
            else:
                click.echo(f"  PASS {label}")
    finally:
        await team.stop()
    passed = len(spec.examples) - failed
    click.echo(f"{passed} of {len(spec.examples)} passed")
    return 1 if failed else 0


@click.command("test")
@click.argument("path", type=click.Path(exists=True), default=".")
@click.option("--provider", type=_PROVIDERS, help="LLM provider (default: agent.yaml's, else the environment).")
@click.option("--model", metavar="NAME", help="Model name (default: agent.yaml's, else the environment).")
@click.pass_context
def test(ctx: click.Context, /, path: str, **flags: Any) -> None:
    """Run the examples in PATH's agent.yaml and report; exit 1 if any fails."""
    from autogpt.custom.declared import load_agent

    try:
        spec, agent_cls = load_agent(Path(path))
        if not spec.examples:
            raise ConfigError(f"{spec.name} has no examples to run", hint=f"add some under 'examples:' in {SPEC_FILE}")
        ctx.exit(asyncio.run(_examples(spec, agent_cls, _overrides(ctx, spec, flags))))
    except AutoGPTError as exc:
        report(exc)
        ctx.exit(exit_code_for(exc))
