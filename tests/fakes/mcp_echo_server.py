"""A tiny MCP server over stdio, made with the SDK, for tests: ``python mcp_echo_server.py``."""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("echo-server", log_level="WARNING")


@server.tool(description="Say the text back.")
def echo(text: str) -> str:
    return f"echo: {text}"


@server.tool(description="Add two integers.")
def add(a: int, b: int) -> str:
    return str(a + b)


@server.tool(description="The value of an environment variable the server was started with.")
def env(name: str) -> str:
    return os.environ.get(name, "(unset)")


@server.tool(description="Always fails.")
def fail() -> str:
    raise ToolError("this tool always fails")


if __name__ == "__main__":
    server.run("stdio")
