"""``autogpt --net``: drive networked agents with ``/agent action input [| language]``.

``/architect create "fastapi app" | python`` sends a ``create`` command to the next live
architect; status streams while it works and the result prints at the end. ``/agents``
lists who is connected. With ``-c LINE`` (repeatable) it runs lines and exits with 0 only
if every one succeeded, for scripts.
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
from autogpt.errors import AutoGPTError, InvalidInputError, RequestTimeoutError
from autogpt.iac.envelope import Address, Command, Register, Result, Status
from autogpt.iac.signing import Signer
from autogpt.net.link import NetSession, TlsFiles, connect

HELP = """\
/<agent> <action> <input> [| <language>]   e.g. /architect create "fastapi app" | python
    agents: gen, man, arch, back, front, design, git, mail, opt (or their long names)
    actions: create, run, status, terminate, help (each agent lists its own with: /<agent> help)
/agents     who is connected
/help       this text
/quit       leave (or Ctrl-D)"""


@dataclass(frozen=True, slots=True)
class NetLine:
    to: Address
    command: Command
    label: str


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
    spec = find_role(head)
    if len(parsed.words) < 2:
        raise InvalidInputError(f"what should {spec.name} do?", hint=f"/{spec.short} help")
    return NetLine(Address.role(spec.role), Command(parsed.words[1], parsed.input, parsed.language), spec.name)


def _on_status(status: Status) -> None:
    if status.delta:
        sys.stdout.write(status.delta)
        sys.stdout.flush()
    elif status.message:
        click.echo(click.style(f"  · {status.message}", dim=True), err=True)


async def _run_line(session: NetSession, line: str, session_id: str, timeout: float = 3600.0) -> bool | None:
    """True/False for success, None to quit. Every wait has a deadline: ``timeout`` seconds
    for a command's reply (then the agent is told to stop), 30 s for the agent list."""
    try:
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
        streamed: list[bool] = []

        def on_status(status: Status) -> None:
            streamed.append(bool(status.delta))
            _on_status(status)

        result = await session.bus.call(
            parsed.to, parsed.command, on_status=on_status, session_id=session_id, timeout=timeout
        )
    except RequestTimeoutError as exc:
        report(exc)
        click.echo(f"no reply within {timeout:g}s (AUTOGPT_COMMAND_TIMEOUT); asking the agent to stop", err=True)
        await _stop_remote(session, line, session_id)
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
    try:
        if commands:
            ok = True
            for line in commands:
                outcome = await _run_line(session, line, session_id, settings.command_timeout)
                if outcome is None:
                    break
                ok = ok and outcome
            return 0 if ok else 1
        return await _interactive(session, session_id, settings)
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


async def _interactive(session: NetSession, session_id: str, settings: Settings) -> int:
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
            work = asyncio.ensure_future(_run_line(session, line, session_id, settings.command_timeout))
            current[:] = [work]
            try:
                outcome = await work
            except asyncio.CancelledError:
                await _stop_remote(session, line, session_id)
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


async def _stop_remote(session: NetSession, line: str, session_id: str) -> None:
    """Tell the agent the command went to that it should stop this session's work."""
    try:
        parsed = parse_net_line(line)
    except AutoGPTError:
        return
    if isinstance(parsed, NetLine):
        with contextlib.suppress(AutoGPTError, TimeoutError):
            await session.bus.call(parsed.to, Command("terminate"), timeout=5, session_id=session_id)
