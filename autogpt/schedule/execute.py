"""Running a scheduled line, ``/AGENT ACTION INPUT [| LANGUAGE]``, standalone or through orchgpt.

The line is the ``--net`` console's: checked with the same parser when an entry is added,
so a line that could never run is refused then, not at three in the morning.
"""

from __future__ import annotations

import uuid

from autogpt.config import Settings
from autogpt.errors import InvalidInputError
from autogpt.schedule.runner import Execute


def check_line(line: str) -> None:
    from autogpt.cli.netconsole import parse_net_line

    parsed = parse_net_line(line)
    if isinstance(parsed, str):
        raise InvalidInputError(f"{line!r} is a console word, not a command", hint='e.g. "/gen run summarise x"')


def standalone(settings: Settings) -> Execute:
    """Each run: the line's agent (and the team a manager needs) in this process."""

    async def execute(line: str) -> tuple[bool, str]:
        from autogpt.agents.catalog import agent_class, find_role
        from autogpt.cli.netconsole import NetLine, parse_net_line
        from autogpt.cli.runtime import Standalone

        parsed = parse_net_line(line)
        assert isinstance(parsed, NetLine)
        spec = find_role(parsed.to.value)
        helpers: tuple[str, ...] = ()
        if spec.role == "manager":
            helpers = ("architect", "backend", "designer", "frontend", "git")
        team = Standalone(settings, agent_class(spec), helpers=tuple(agent_class(find_role(h)) for h in helpers))
        await team.start()
        try:
            result = await team.ask(parsed.command)
        finally:
            await team.stop()
        return result.ok, result.output

    return execute


def networked(settings: Settings) -> Execute:
    """Each run: the line sent through orchgpt, as ``autogpt --net -c LINE`` would send it."""

    async def execute(line: str) -> tuple[bool, str]:
        from autogpt.agents.catalog import USER_ROLE
        from autogpt.cli.netconsole import NetLine, parse_net_line
        from autogpt.iac.envelope import Register
        from autogpt.iac.signing import Signer
        from autogpt.net.link import TlsFiles, connect

        parsed = parse_net_line(line)
        assert isinstance(parsed, NetLine)
        tls = TlsFiles.from_dir(settings.certs, settings.cert_name or USER_ROLE)
        session = await connect(
            settings.orchestrator, tls, Register(role=USER_ROLE), heartbeat=settings.heartbeat, signer=Signer.generate()
        )
        try:
            result = await session.bus.call(parsed.to, parsed.command, session_id=uuid.uuid4().hex, timeout=None)
        finally:
            await session.close()
        return result.ok, result.output

    return execute
