"""``autogpt --net --agent ROLE``: serve one role for an orchestrator, for as long as it runs.

Connection loss is normal life for a daemon: the process reconnects with exponential
backoff and jitter, registers again and goes on serving. Refusals that retrying cannot
fix (bad certificate, role not allowed) end the process with a clear error.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from pathlib import Path

from autogpt.agents.base import Agent
from autogpt.config import Settings
from autogpt.errors import AutoGPTError
from autogpt.iac.envelope import Register
from autogpt.iac.signing import ReplayGuard, Signer
from autogpt.llm.base import LLM
from autogpt.llm.usage import UsageMeter
from autogpt.logs import get_logger
from autogpt.net.link import TlsFiles, connect
from autogpt.net.trust import KeyBook
from autogpt.tools.workspace import Workspace

log = get_logger(__name__)


def backoff(attempt: int, *, base: float = 0.2, cap: float = 10.0) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, never above ``cap``."""
    ceiling = min(cap, base * 2.0**attempt)
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311 - timing jitter, not crypto


async def serve_role(
    settings: Settings, agent_cls: type[Agent], llm: LLM, *, stop: asyncio.Event | None = None
) -> None:
    stop = stop or asyncio.Event()
    tls = TlsFiles.from_dir(settings.certs, settings.cert_name or agent_cls.role)
    meter = UsageMeter()
    register = Register(
        role=agent_cls.role,
        capabilities=tuple(sorted(agent_cls.capabilities)),
        name=agent_cls.name,
        actions=agent_cls.offered_actions(),
    )
    signer = Signer.generate()
    guard = ReplayGuard(settings.order_window)  # outlives reconnections: a replay is refused on any session
    attempt = 0
    while not stop.is_set():
        try:
            session = await connect(settings.orchestrator, tls, register, heartbeat=settings.heartbeat, signer=signer)
        except AutoGPTError as exc:
            if not exc.retryable:
                raise
            delay = backoff(attempt, cap=settings.reconnect_max)
            attempt += 1
            log.warning("orchestrator_unreachable", error=str(exc), retry_in=round(delay, 2), attempt=attempt)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            continue
        connected = time.monotonic()
        agent = agent_cls(
            llm,
            session.bus,
            workspace=Workspace(Path(settings.workspace)),
            meter=meter,
            verify=KeyBook(session.bus, guard).check if settings.require_signatures else None,
            settings=settings,
        )
        print(f"{agent_cls.name} serving as {session.bus.agent_id} via {settings.orchestrator}", flush=True)
        serving = asyncio.create_task(agent.serve(), name="agent-serve")
        stopping = asyncio.create_task(stop.wait(), name="stop-wait")
        try:
            await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            await session.close()
            await serving
        if stop.is_set():
            break
        # A session that lasted is a fresh start; one dropped at once keeps backing off.
        attempt = 0 if time.monotonic() - connected > 10 else attempt + 1
        delay = backoff(attempt, cap=settings.reconnect_max) if attempt else 0.0
        log.warning("reconnecting", agent=session.bus.agent_id, retry_in=round(delay, 2))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
