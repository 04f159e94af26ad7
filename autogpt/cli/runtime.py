"""A standalone team in one process: settings -> LLM -> in-memory hub -> agents.

The CLI talks to agents exactly as a networked console would: as a ``user`` endpoint on
a Bus, sending commands and reading streamed status and results.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autogpt.agents.base import Agent
from autogpt.config import Settings, load_settings
from autogpt.iac.bus import Bus
from autogpt.iac.envelope import Address, Command, Result, Status
from autogpt.iac.memory import InMemoryHub
from autogpt.llm.base import LLM
from autogpt.llm.usage import UsageMeter
from autogpt.logs import configure_logging
from autogpt.tools.workspace import Workspace


def settings_from(overrides: dict[str, Any]) -> Settings:
    settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _progress(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)


def build_llm(settings: Settings) -> LLM:
    if settings.resolved_provider() == "embedded":
        from autogpt.llm.embedded import EmbeddedLLM

        return EmbeddedLLM.from_settings(settings, progress=_progress)
    from autogpt.llm.factory import make_llm

    return make_llm(settings)


class Standalone:
    """One agent served on an in-memory hub, plus a user endpoint to talk to it."""

    def __init__(self, settings: Settings, agent_cls: type[Agent], llm: LLM | None = None) -> None:
        self.settings = settings
        self.agent_cls = agent_cls
        self.meter = UsageMeter()
        self.session_id = uuid.uuid4().hex
        self._llm = llm
        self._serve: asyncio.Task[None] | None = None
        self.user: Bus | None = None
        self.agent: Agent | None = None

    async def start(self) -> None:
        llm: LLM = self._llm if self._llm is not None else await asyncio.to_thread(build_llm, self.settings)
        load = getattr(llm, "load", None)
        if load is not None:
            await load()
        hub = InMemoryHub()
        bus = hub.connect(self.agent_cls.role, agent_id=self.agent_cls.role)
        self.agent = self.agent_cls(llm, bus, workspace=Workspace(Path(self.settings.workspace)), meter=self.meter)
        self.user = hub.connect("user", agent_id="user")
        self._serve = asyncio.create_task(self.agent.serve(), name=f"serve-{self.agent_cls.role}")

    async def ask(self, command: Command, on_status: Callable[[Status], None] | None = None) -> Result:
        assert self.user is not None, "start() first"
        return await self.user.call(
            Address.agent(self.agent_cls.role),
            command,
            on_status=on_status,
            session_id=self.session_id,
            timeout=None,
        )

    async def stop(self) -> None:
        if self.agent is not None:
            await self.agent.bus.close()
        if self._serve is not None:
            await self._serve
        if self.agent is not None:
            await self.agent.llm.aclose()


def summary_line(llm: LLM, meter: UsageMeter, started: float) -> str:
    usage = meter.total
    return (
        f"[{llm.provider}:{llm.model} · {usage.prompt_tokens}+{usage.completion_tokens} tokens · "
        f"{time.monotonic() - started:.1f}s]"
    )
