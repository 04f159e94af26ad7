"""``autogpt mcp``: the MCP servers GenericGPT may use, and the team served over MCP.

``add/list/remove`` edit ``DATA_DIR/mcp.json``; ``inspect`` and ``call`` connect with the
SDK's client; ``serve`` offers the team to any MCP client (:mod:`autogpt.mcp.serve`).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from autogpt.errors import InvalidInputError


def _data_dir(ctx: click.Context) -> Path:
    from autogpt.cli.runtime import settings_from

    return Path(settings_from(ctx.obj or {}).data_dir)


@click.group("mcp", help="MCP servers GenericGPT may use as tools, and the team served over MCP.")
def mcp() -> None:
    pass


@mcp.command("add", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.option("-c", "--command", "target", required=True, metavar="CMD|URL", help="Program to start, or URL.")
@click.option("-t", "--transport", type=click.Choice(["stdio", "http"]), help="Default: http for a URL, else stdio.")
@click.option("-e", "--env", multiple=True, metavar="K=V", help="Environment of a started (stdio) server.")
@click.option("-H", "--header", multiple=True, metavar="'K: V'", help="HTTP header sent to an http server.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def add(
    ctx: click.Context, name: str, target: str, transport: str | None, env: tuple[str, ...],
    header: tuple[str, ...], args: tuple[str, ...],
) -> None:  # fmt: skip
    """Add (or replace) server NAME: `mcp add files -c npx -- -y @scope/server /path`."""
    from autogpt.mcp import servers

    spec = servers.make_spec(name, target, args, transport=transport, env=env, headers=header)
    replaced = servers.add(_data_dir(ctx), spec)
    click.echo(f"{'replaced' if replaced else 'added'} {spec.describe()}")


@mcp.command("list")
@click.pass_context
def list_servers(ctx: click.Context) -> None:
    """The servers added, with variable and header names (never their values)."""
    from autogpt.mcp import servers

    found = servers.load(_data_dir(ctx))
    if not found:
        click.echo("no MCP servers (add one: autogpt mcp add NAME -c CMD|URL)")
    for spec in found.values():
        click.echo(spec.describe())


@mcp.command("remove")
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    from autogpt.mcp import servers

    servers.remove(_data_dir(ctx), name)
    click.echo(f"removed {name}")


async def _inspect(data_dir: Path, name: str) -> list[str]:
    from autogpt.mcp import servers
    from autogpt.mcp.client import connect, list_tools

    spec = servers.get(data_dir, name)
    async with connect(spec) as client:
        info = client.server_info
        lines = [f"{name}: {info.name if info else '?'} {info.version if info else ''}".rstrip()]
        for tool in await list_tools(client):
            params = ", ".join(tool.input_schema.get("properties", {}))
            about = (tool.description or "").strip().splitlines()
            lines.append(f"  {tool.name}({params})" + (f": {about[0]}" if about else ""))
    return lines


@mcp.command("inspect")
@click.argument("name")
@click.pass_context
def inspect(ctx: click.Context, name: str) -> None:
    """Connect to NAME and list its tools."""
    for line in asyncio.run(_inspect(_data_dir(ctx), name)):
        click.echo(line)


async def _call(data_dir: Path, name: str, tool: str, arguments: dict[str, Any]) -> tuple[bool, str]:
    from autogpt.mcp import servers
    from autogpt.mcp.client import call_tool, connect, result_text

    async with connect(servers.get(data_dir, name)) as client:
        result = await call_tool(client, tool, arguments)
    return not result.is_error, result_text(result)


@mcp.command("call")
@click.argument("server")
@click.argument("tool")
@click.argument("arguments", required=False, default="{}", metavar="[JSON]")
@click.pass_context
def call(ctx: click.Context, server: str, tool: str, arguments: str) -> None:
    """Call TOOL of SERVER with JSON arguments; exit 1 when the tool reports an error."""
    try:
        parsed = json.loads(arguments)
    except ValueError as exc:
        raise InvalidInputError(f"the arguments are not JSON: {exc}", hint='e.g. \'{"text": "hi"}\'') from None
    if not isinstance(parsed, dict):
        raise InvalidInputError("the arguments must be a JSON object")
    ok, text = asyncio.run(_call(_data_dir(ctx), server, tool, parsed))
    click.echo(text)
    ctx.exit(0 if ok else 1)


@mcp.command("serve")
@click.option("-t", "--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="With http: address to listen on.")
@click.option("--port", type=int, default=8765, show_default=True, help="With http: port (0: any free port).")
@click.pass_context
def serve(ctx: click.Context, transport: str, host: str, port: int) -> None:
    """Offer the team to MCP clients: build an idea, ask an agent, read a build's report."""
    from autogpt.mcp.serve import serve_http, serve_stdio

    overrides = ctx.obj or {}
    if transport == "stdio":
        asyncio.run(serve_stdio(overrides))
    else:
        asyncio.run(serve_http(overrides, host, port))
