"""``autogpt mcp serve``: the team as an MCP server, over stdio or streamable HTTP.

Three tools: ``build`` (an idea, built by the team into the workspace), ``ask`` (one
prompt to one agent's main action) and ``read_report`` (a build's REPORT.md, or another
file of the workspace, read through the confined Workspace). Acting on the workspace
(GenericGPT's ``do``) is not offered: an MCP client has no terminal to approve on.

Each call starts the agents it needs and stops them afterwards, so calls share nothing
but the workspace and the data folder.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from autogpt.errors import AutoGPTError, InvalidInputError
from autogpt.iac.envelope import Command, Result

NOT_SERVED = frozenset({"manager"})  # builds go through `build`


def make_server(overrides: dict[str, Any]) -> MCPServer:
    from autogpt.agents.catalog import ROLES, agent_class, find_role
    from autogpt.cli.runtime import Standalone, settings_from

    settings = settings_from(overrides)
    server = MCPServer(
        "autogpt-team",
        instructions="A team of specialist LLM agents: build an idea into a project, ask one agent, read reports.",
        log_level="WARNING",
    )

    async def run_team(agent_cls: Any, command: Command, helpers: tuple[Any, ...] = ()) -> Result:
        team = Standalone(settings, agent_cls, helpers=helpers)
        await team.start()
        try:
            return await team.ask(command)
        finally:
            await team.stop()

    @server.tool(description="Build a project from an idea with the team; returns the build's report.")
    async def build(idea: str, scope: Literal["api", "full"] = "api", language: str = "python") -> str:
        from autogpt.agents.manager import ManagerGPT
        from autogpt.cli.build import API_TEAM, FULL_TEAM

        roles = API_TEAM if scope == "api" else FULL_TEAM
        helpers = tuple(agent_class(find_role(r)) for r in roles)
        return await _guarded(run_team(ManagerGPT, Command("create", idea, language, {"scope": scope}), helpers))

    servable = ", ".join(spec.role for spec in ROLES if spec.impl is not None and spec.role not in NOT_SERVED)

    @server.tool(description=f"Ask one agent (role: {servable}) with a prompt; returns its answer.")
    async def ask(agent: str, prompt: str) -> str:
        try:
            spec = find_role(agent)
        except AutoGPTError as exc:
            raise ToolError(str(exc)) from None
        if spec.role in NOT_SERVED:
            raise ToolError(f"{spec.name} is reached through the build tool")
        return await _guarded(run_team(agent_class(spec), Command("run", prompt)))

    @server.tool(description="Read a build's REPORT.md (or another text file of the workspace).")
    async def read_report(path: str = "REPORT.md") -> str:
        from autogpt.tools.workspace import Workspace

        try:
            return Workspace(Path(settings.workspace)).read_text(path)
        except (AutoGPTError, UnicodeDecodeError) as exc:
            raise ToolError(f"cannot read {path!r}: {exc}") from None

    return server


async def _guarded(pending: Any) -> str:
    """A failed request is a tool error the client sees as text, not a dropped connection."""
    try:
        result: Result = await pending
    except AutoGPTError as exc:
        raise ToolError(str(exc)) from None
    if not result.ok:
        raise ToolError(result.output or "the request failed")
    return result.output


async def serve_stdio(overrides: dict[str, Any]) -> None:
    await make_server(overrides).run_stdio_async()


async def serve_http(overrides: dict[str, Any], host: str, port: int) -> None:
    """Listen on ``host:port`` (0: a free port) and say where on stderr, then serve until stopped."""
    import uvicorn

    if port < 0 or port > 65535:
        raise InvalidInputError(f"port {port} is out of range")
    server = make_server(overrides)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidInputError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    # Listening before saying where: a client that reads the line may connect at once, and its
    # connection waits in the backlog until uvicorn accepts it instead of being refused.
    sock.listen(128)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    app = server.streamable_http_app(host=host)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    print(f"autogpt MCP server on http://{shown}:{bound}/mcp", file=sys.stderr, flush=True)
    try:
        await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        sock.close()
