"""One connection to an MCP server through the SDK's :class:`mcp.Client`.

Whatever goes wrong with the server (it will not start, it hangs up, it answers with a
protocol error) becomes one :class:`MCPServerError` here, so callers deal with our
error tree only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent, Tool

from autogpt.errors import AgentError
from autogpt.mcp.servers import ServerSpec

CONNECT_SECONDS = 30.0
CALL_SECONDS = 120.0


class MCPServerError(AgentError):
    """An MCP server could not be reached, or failed a request."""


@contextlib.asynccontextmanager
async def connect(spec: ServerSpec, *, timeout: float = CONNECT_SECONDS) -> AsyncIterator[Client]:
    """A connected client; the server (stdio) is stopped when the block ends."""
    async with contextlib.AsyncExitStack() as stack:
        if spec.transport == "stdio":
            target: Any = StdioServerParameters(command=spec.command, args=spec.args, env=spec.env or None)
        else:
            http = await stack.enter_async_context(
                httpx2.AsyncClient(headers=spec.headers, timeout=httpx2.Timeout(timeout, read=CALL_SECONDS))
            )
            target = streamable_http_client(spec.command, http_client=http)
        client = Client(target, read_timeout_seconds=CALL_SECONDS, mode="legacy")
        try:
            async with asyncio.timeout(timeout):
                await stack.enter_async_context(client)
        except (OSError, MCPError, TimeoutError, httpx2.HTTPError) as exc:
            raise MCPServerError(f"MCP server {spec.name!r} did not connect: {_reason(exc)}") from None
        except Exception as exc:  # the SDK's task groups wrap what failed
            raise MCPServerError(f"MCP server {spec.name!r} did not connect: {_reason(exc)}") from None
        yield client


def _reason(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def list_tools(client: Client) -> list[Tool]:
    try:
        return list((await client.list_tools()).tools)
    except MCPError as exc:
        raise MCPServerError(f"listing tools failed: {exc}") from None


async def call_tool(client: Client, name: str, arguments: dict[str, Any]) -> CallToolResult:
    try:
        return await client.call_tool(name, arguments)
    except MCPError as exc:
        raise MCPServerError(f"{name}: {exc}") from None


def result_text(result: CallToolResult) -> str:
    """The text a model or a person reads: text blocks, else the structured content, else a note."""
    parts = [block.text for block in result.content if isinstance(block, TextContent)]
    if not parts and result.structured_content is not None:
        import json

        parts.append(json.dumps(result.structured_content))
    others = len(result.content) - sum(isinstance(b, TextContent) for b in result.content)
    if others:
        parts.append(f"[{others} non-text block(s)]")
    return "\n".join(parts)
