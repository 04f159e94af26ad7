"""MCP servers' tools as our :class:`~autogpt.tools.tool.Tool`: capability ``mcp.call``.

Each is named ``mcp__SERVER__TOOL`` so it cannot shadow a built-in tool; its arguments
are checked against the server's own JSON schema before the call goes out.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
from mcp import Client
from mcp_types import Tool as McpTool
from pydantic import BaseModel, ConfigDict

from autogpt.errors import AutoGPTError
from autogpt.logs import get_logger
from autogpt.mcp import servers
from autogpt.mcp.client import call_tool, connect, list_tools, result_text
from autogpt.tools.tool import Tool, ToolContext, ToolOutput

log = get_logger(__name__)


class AnyArgs(BaseModel):
    """Whatever the server's schema takes; checked with jsonschema in :meth:`MCPTool.run`."""

    model_config = ConfigDict(extra="allow")


def tool_name(server: str, tool: str) -> str:
    return f"mcp__{server}__{re.sub(r'[^A-Za-z0-9_-]', '_', tool)}"


class MCPTool(Tool[AnyArgs]):
    capability = "mcp.call"
    Args = AnyArgs

    def __init__(self, server: str, client: Client, spec: McpTool) -> None:
        self.server, self.client, self.spec = server, client, spec
        self.name = tool_name(server, spec.name)
        self.description = f"(MCP server {server}) {spec.description or spec.name}"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "args": self.spec.input_schema}

    async def run(self, args: AnyArgs, ctx: ToolContext) -> ToolOutput:
        arguments = args.model_dump()
        try:
            jsonschema.validate(arguments, self.spec.input_schema)
        except jsonschema.ValidationError as exc:
            return ToolOutput.error(f"bad arguments for {self.name}: {exc.message}")
        result = await call_tool(self.client, self.spec.name, arguments)
        return ToolOutput(result_text(result) or "(no output)", ok=not result.is_error)


async def open_mcp_tools(
    stack: contextlib.AsyncExitStack, data_dir: Path, say: Callable[[str], Awaitable[None]]
) -> list[Tool[Any]]:
    """Connect to every configured server (kept open until ``stack`` closes); one that
    fails is reported and left out, never the end of the run."""
    found: list[Tool[Any]] = []
    for name, spec in sorted(servers.load(data_dir).items()):
        try:
            client = await stack.enter_async_context(connect(spec))
            tools = await list_tools(client)
        except AutoGPTError as exc:
            await say(f"MCP server {name} left out: {exc}")
            continue
        found += [MCPTool(name, client, tool) for tool in tools]
        await say(f"MCP server {name}: {len(tools)} tool(s)")
    return found
