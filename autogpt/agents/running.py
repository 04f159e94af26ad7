"""A generated server, started inside the Sandbox for as long as a check needs it.

BackendGPT probes its routes through it; FrontendGPT puts a browser in front of it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

from autogpt.agents.stacks import Stack
from autogpt.config import Settings
from autogpt.errors import AutoGPTError
from autogpt.tools.sandbox import HttpResponse, Limits, Sandbox, SandboxProcess, free_port
from autogpt.tools.workspace import Workspace

Say = Callable[[str], Awaitable[None]]


@dataclass
class RunningServer:
    sandbox: Sandbox
    proc: SandboxProcess
    port: int
    started: bool = False

    async def request(
        self, method: str, path: str, body: bytes | None = None,
        headers: Mapping[str, str] | None = None, timeout: float = 10,
    ) -> HttpResponse:  # fmt: skip
        return await self.sandbox.request(
            self.proc, method, self.port, path, body=body, headers=headers, timeout=timeout
        )

    def log_tail(self) -> str:
        return self.proc.output_tail()

    async def wait_ready(self, seconds: float) -> bool:
        """True once the server answers HTTP at all (any status); False if it exits or never does."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            if self.proc.returncode is not None:
                return False
            try:
                await self.request("GET", "/openapi.json", timeout=2)
            except (OSError, AutoGPTError, TimeoutError):
                await asyncio.sleep(0.2)
                continue
            return True
        return False


@contextlib.asynccontextmanager
async def running_server(
    stack: Stack, workspace: Workspace, settings: Settings, say: Say, *,
    startup_seconds: float = 30.0, site: bool = False,
) -> AsyncIterator[RunningServer]:  # fmt: skip
    """Start the workspace's server with no network; ``started`` tells whether it answered.
    With ``site``, the server also serves the web page (:attr:`Stack.site_file`)."""
    port = free_port()
    await say("preparing the environment")
    launch = await stack.launch(settings.cache_dir, port, site=site)
    sandbox = Sandbox(workspace, readable=launch.readable, allow_unconfined=settings.allow_unconfined)
    await say(f"starting the server on port {port}")
    proc = await sandbox.start(launch.argv, limits=Limits(wall_seconds=300, memory_mb=2048), env=launch.env)
    server = RunningServer(sandbox, proc, port)
    try:
        server.started = await server.wait_ready(startup_seconds)
        yield server
    finally:
        await proc.stop()
