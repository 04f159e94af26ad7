"""``autogpt --net``: drive networked agents with ``/agent action input [| language]``.

``/architect create "fastapi app" | python`` sends a ``create`` command to the next live
architect; status streams while it works and the result prints at the end. A line whose
second word is not one of the agent's actions (``/gen explain closures``), and a line with
no ``/`` at all (to the agent last addressed), go to the agent's main action. Any role
orchgpt lists can be addressed, custom agents' too. ``/agents`` lists who is connected.
With ``-c LINE`` (repeatable) it runs lines and exits with 0 only if every one succeeded,
for scripts.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import click

from autogpt.agents.catalog import USER_ROLE, find_role
from autogpt.cli.errors import report
from autogpt.cli.lines import tokenize
from autogpt.cli.printable import printable
from autogpt.config import Settings
from autogpt.errors import AutoGPTError, InvalidInputError, RequestTimeoutError, UnknownActionError
from autogpt.iac.envelope import Address, Command, Register, Result, Status
from autogpt.iac.signing import Signer
from autogpt.net.link import NetSession, TlsFiles, connect

HELP = """\
/<agent> <action> <input> [| <language>]   e.g. /architect create "fastapi app" | python
/<agent> <prompt>                          the agent's main action, e.g. /gen explain closures
<prompt>                                   the main action of the agent last addressed
    agents: gen, man, arch, back, front, design, git, mail, opt (or their long names), and
            any other role orchgpt lists (custom agents)
    actions: each agent lists its own with: /<agent> help
/agents     who is connected
/help       this text
/quit       leave (or Ctrl-D)"""


@dataclass(frozen=True, slots=True)
class NetLine:
    to: Address
    command: Command  # the second word read as an action
    label: str
    prompt: Command | None = None  # the same line read as a plain prompt, for when it names no action
    listed: bool = True  # False: not a role we know of; orchgpt's list must have it


def parse_net_line(line: str) -> NetLine | str:
    """A routed command, or a console word (``agents``, ``help``, ``quit``)."""
    text = line.strip()
    if not text.startswith("/"):
        raise InvalidInputError("lines start with /<agent> <action>", hint="try /help")
    parsed = tokenize(text[1:], leading=2)
    if not parsed.words:
        raise InvalidInputError("an agent name must follow '/'", hint="try /help")
    head = parsed.words[0]
    if head in ("agents", "help", "quit", "exit") and len(parsed.words) == 1 and not parsed.input:
        return head
    try:
        spec = find_role(head)
        to, label, short, listed = Address.role(spec.role), spec.name, spec.short, True
    except InvalidInputError:  # maybe a custom agent that only orchgpt knows of
        to, label, short, listed = Address.role(head), head, head, False
    if len(parsed.words) < 2:
        raise InvalidInputError(f"what should {label} do?", hint=f"/{short} help")
    whole = tokenize(text[1:], leading=1)
    prompt = Command("run", whole.input, whole.language)
    return NetLine(to, Command(parsed.words[1], parsed.input, parsed.language), label, prompt, listed)


def plain_line(line: str, last: NetLine) -> NetLine:
    """A line without '/': a prompt for the agent last addressed."""
    parsed = tokenize(line.strip(), leading=0)
    return NetLine(last.to, Command("run", parsed.input, parsed.language), last.label)


def _on_status(status: Status) -> None:
    if status.delta:
        sys.stdout.write(status.delta)
        sys.stdout.flush()
    elif status.message:
        click.echo(click.style(f"  · {status.message}", dim=True), err=True)


@dataclass
class _State:
    """What the console remembers between lines: whom it spoke to, and agents' actions."""

    last: NetLine | None = None
    current: NetLine | None = None


async def _check_listed(session: NetSession, line: NetLine) -> None:
    roles = sorted({str(a.get("role", "")) for a in await session.bus.list_agents()} - {"", USER_ROLE})
    if line.to.value not in roles:
        raise InvalidInputError(
            f"unknown agent {line.label!r}: not a built-in role, and orchgpt lists no agent with that role",
            hint=f"connected roles: {', '.join(roles) or 'none'}",
        )


async def _run_line(
    session: NetSession, line: str, session_id: str, state: _State | None = None, timeout: float = 3600.0
) -> bool | None:
    """True/False for success, None to quit. Every wait has a deadline: ``timeout`` seconds
    for a command's reply (then the agent is told to stop), 30 s for the agent list."""
    state = state if state is not None else _State()
    try:
        if not line.strip().startswith("/"):
            if state.last is None:
                raise InvalidInputError("say which agent first", hint="e.g. /gen explain closures (then plain lines)")
            parsed: NetLine | str = plain_line(line, state.last)
        else:
            parsed = parse_net_line(line)
        if parsed == "help":
            click.echo(HELP)
            return True
        if parsed in ("quit", "exit"):
            return None
        if parsed == "agents":
            agents = await session.bus.list_agents()
            lines = [f"{a.get('agent_id', '')!s:<24} {a.get('role', '')}" for a in agents]
            click.echo(printable("\n".join(lines)) or "(no agents connected)")
            return True
        assert isinstance(parsed, NetLine)
        if not parsed.listed:
            await _check_listed(session, parsed)
        state.last = state.current = parsed
        streamed: list[bool] = []

        def on_status(status: Status) -> None:
            streamed.append(bool(status.delta))
            _on_status(status)

        try:
            result = await session.bus.call(
                parsed.to, parsed.command, on_status=on_status, session_id=session_id, timeout=timeout
            )
        except UnknownActionError:
            if parsed.prompt is None:
                raise
            # the second word is no action of that agent: the whole line is a prompt
            result = await session.bus.call(
                parsed.to, parsed.prompt, on_status=on_status, session_id=session_id, timeout=timeout
            )
    except RequestTimeoutError as exc:
        report(exc)
        click.echo(f"no reply within {timeout:g}s (AUTOGPT_COMMAND_TIMEOUT); asking the agent to stop", err=True)
        await _stop_remote(session, parsed if isinstance(parsed, NetLine) else None, session_id)
        return False
    except AutoGPTError as exc:
        report(exc)
        return False
    _show(result, streamed=any(streamed))
    return result.ok


def _show(result: Result, *, streamed: bool) -> None:
    if streamed:
        if not result.output.endswith("\n"):
            click.echo("")
    elif result.output:
        click.echo(result.output)
    for artifact in result.artifacts:
        click.echo(click.style(f"  + {artifact.path} ({artifact.size} bytes)", dim=True))


async def run_net_console(settings: Settings, commands: tuple[str, ...]) -> int:
    tls = TlsFiles.from_dir(settings.certs, settings.cert_name or USER_ROLE)
    session = await connect(
        settings.orchestrator,
        tls,
        Register(role=USER_ROLE),
        heartbeat=settings.heartbeat,
        signer=Signer.generate(),  # every order this console gives is signed
    )
    session_id = uuid.uuid4().hex
    state = _State()
    try:
        if commands:
            ok = True
            for line in commands:
                outcome = await _run_line(session, line, session_id, state, settings.command_timeout)
                if outcome is None:
                    break
                ok = ok and outcome
            return 0 if ok else 1
        return await _interactive(session, session_id, settings, state)
    finally:
        await session.close()


def _read_line(prompt: str) -> asyncio.Future[str]:
    """``input()`` in a daemon thread: a pending read never keeps the program from exiting."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def settle(value: str | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value or "")

    def work() -> None:
        try:
            line = input(prompt)
        except BaseException:  # EOF (Ctrl-D) or a closed stdin: the console ends
            loop.call_soon_threadsafe(settle, None, EOFError())
        else:
            loop.call_soon_threadsafe(settle, line, None)

    threading.Thread(target=work, name="console-input", daemon=True).start()
    return future


async def _interactive(session: NetSession, session_id: str, settings: Settings, state: _State) -> int:
    """Ctrl-C stops the command in progress (and the agent's work on it); at the prompt it leaves."""
    interactive = sys.stdin.isatty()
    if interactive:
        click.echo(f"connected to {settings.orchestrator} as {session.bus.agent_id}. /help for help, Ctrl-D leaves.")
    loop = asyncio.get_running_loop()
    current: list[asyncio.Future[Any]] = []

    def on_interrupt() -> None:
        if current:
            current[-1].cancel()

    loop.add_signal_handler(signal.SIGINT, on_interrupt)
    failures = 0
    try:
        while True:
            reading = _read_line("net> " if interactive else "")
            current[:] = [reading]
            try:
                line = await reading
            except (EOFError, asyncio.CancelledError):
                break
            if not line.strip():
                continue
            if session.lost.is_set():
                click.echo("error: the connection to the orchestrator was lost", err=True)
                return 1
            state.current = None
            work = asyncio.ensure_future(_run_line(session, line, session_id, state, settings.command_timeout))
            current[:] = [work]
            try:
                outcome = await work
            except asyncio.CancelledError:
                await _stop_remote(session, state.current, session_id)
                click.echo("\n[stopped]", err=True)
                continue
            if outcome is None:
                break
            failures += 0 if outcome else 1
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    if interactive:
        click.echo("bye")
    return 1 if failures and not interactive else 0


async def _stop_remote(session: NetSession, line: NetLine | None, session_id: str) -> None:
    """Tell the agent the command went to that it should stop this session's work."""
    if line is not None:
        with contextlib.suppress(AutoGPTError, TimeoutError):
            await session.bus.call(line.to, Command("terminate"), timeout=5, session_id=session_id)
