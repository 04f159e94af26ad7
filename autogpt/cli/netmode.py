"""Entry to networked mode from the CLI: an agent process, or a console."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Any

from autogpt.agents.base import Agent
from autogpt.agents.catalog import agent_class, find_role
from autogpt.cli.errors import exit_code_for, report
from autogpt.cli.runtime import build_llm, settings_from
from autogpt.errors import AutoGPTError


def _agent_for(role: str) -> type[Agent]:
    """A role (built-in, or a custom agent installed under ``autogpt.agents``) or an agent's folder."""
    if role.startswith((".", "/")) or Path(role, "agent.yaml").is_file():
        from autogpt.custom.declared import load_agent

        return load_agent(Path(role))[1]
    return agent_class(find_role(role))


async def _serve(overrides: dict[str, Any], role: str | type[Agent]) -> int:
    from autogpt.net.agent_process import serve_role

    agent_cls = _agent_for(role) if isinstance(role, str) else role
    settings = settings_from(overrides).for_role(agent_cls.role)
    llm = await asyncio.to_thread(build_llm, settings)
    load = getattr(llm, "load", None)
    if load is not None:
        await load()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await serve_role(settings, agent_cls, llm, stop=stop)
    finally:
        with contextlib.suppress(Exception):
            await llm.aclose()
    return 0


async def _console(overrides: dict[str, Any], commands: tuple[str, ...]) -> int:
    from autogpt.cli.netconsole import run_net_console

    return await run_net_console(settings_from(overrides), commands)


def serve_class(overrides: dict[str, Any], agent_cls: type[Agent]) -> int:
    """Serve ``agent_cls`` for orchgpt until stopped (``autogpt run --net``)."""
    try:
        return asyncio.run(_serve(overrides, agent_cls))
    except AutoGPTError as exc:
        report(exc)
        return exit_code_for(exc)


def run_net(overrides: dict[str, Any], role: str | None, commands: tuple[str, ...]) -> int:
    try:
        if role:
            return asyncio.run(_serve(overrides, role))
        return asyncio.run(_console(overrides, commands))
    except AutoGPTError as exc:
        report(exc)
        return exit_code_for(exc)
