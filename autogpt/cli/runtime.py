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
from autogpt.agents.manager import ManagerGPT
from autogpt.config import Settings, load_settings
from autogpt.errors import InvalidInputError
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
    """Agents served on an in-memory hub, plus a user endpoint to talk to ``agent_cls``.

    ``helpers`` are the rest of the team (e.g. the architect and backend a manager needs);
    all share one model, one usage meter and one workspace."""

    def __init__(
        self,
        settings: Settings,
        agent_cls: type[Agent],
        llm: LLM | None = None,
        *,
        helpers: tuple[type[Agent], ...] = (),
        session_id: str | None = None,
        memory: bool = True,
    ) -> None:
        self.settings = settings
        self.agent_cls = agent_cls
        self.helpers = helpers
        self.meter = UsageMeter()
        self.session_id = session_id or uuid.uuid4().hex
        self.remembers = memory
        self._llm = llm
        self._llms: dict[str, LLM] = {}
        self._serving: list[asyncio.Task[None]] = []
        self.user: Bus | None = None
        self.agent: Agent | None = None
        self.team: list[Agent] = []

    async def start(self) -> None:
        classes = (self.agent_cls, *self.helpers)
        unknown = sorted(set(self.settings.role_models) - {cls.role for cls in classes})
        if unknown:
            raise InvalidInputError(
                f"a model is set for {', '.join(unknown)}, which this team does not have",
                hint="roles here: " + ", ".join(cls.role for cls in classes),
            )
        hub = InMemoryHub()
        workspace = Workspace(Path(self.settings.workspace))
        for cls in classes:
            llm = await self._llm_for(cls.role)
            bus = hub.connect(cls.role, agent_id=cls.role)
            agent = cls(llm, bus, workspace=workspace, meter=self.meter, settings=self.settings)
            self._give_memory(agent)
            self.team.append(agent)
            self._serving.append(asyncio.create_task(agent.serve(), name=f"serve-{cls.role}"))
        self.agent = self.team[0]
        if isinstance(self.agent, ManagerGPT):
            self.agent.team_roles = tuple(c.role for c in self.helpers)
        self.user = hub.connect("user", agent_id="user")

    def _give_memory(self, agent: Agent) -> None:
        """Long-term memory (one store for the team) and conversations that outlive the process."""
        if not self.remembers:
            return
        from autogpt.memory.recall import AgentMemory, open_store
        from autogpt.sessions import SessionStore

        store = open_store(self.settings)
        project = Path(self.settings.workspace).resolve().name
        agent.memory = AgentMemory(store, agent.role, project=project, k=self.settings.memory_recall)
        agent.sessions = SessionStore(Path(self.settings.data_dir) / "sessions", agent.role)

    async def _llm_for(self, role: str) -> LLM:
        """The role's model (``role_models``), else the team's; each model is loaded once."""
        settings = self.settings.for_role(role)
        if self._llm is not None and (settings is self.settings or role not in self.settings.role_models):
            return self._llm  # a model handed in serves every role no model was chosen for
        key = settings.model or ""
        if key not in self._llms:
            llm = await asyncio.to_thread(build_llm, settings)
            load = getattr(llm, "load", None)
            if load is not None:
                await load()
            self._llms[key] = llm
        return self._llms[key]

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
        for agent in self.team:
            await agent.bus.close()
        for task in self._serving:
            await task
        used = [*self._llms.values(), *([self._llm] if self._llm is not None else [])]
        for llm in {id(llm): llm for llm in used}.values():
            await llm.aclose()


def summary_line(llm: LLM, meter: UsageMeter, started: float) -> str:
    usage = meter.total
    return (
        f"[{llm.provider}:{llm.model} · {usage.prompt_tokens}+{usage.completion_tokens} tokens · "
        f"{time.monotonic() - started:.1f}s]"
    )
