"""MCP both ways with the official SDK: a real stdio server (tests/fakes/mcp_echo_server.py)
driven by ``autogpt mcp`` and by GenericGPT's tools, and the SDK's client driving
``autogpt mcp serve`` over stdio and over streamable HTTP on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp_types import TextContent

from autogpt.agents.generic import GenericGPT
from autogpt.config import load_settings
from autogpt.errors import InvalidInputError
from autogpt.iac.envelope import Address, Command, Result
from autogpt.iac.memory import InMemoryHub
from autogpt.llm.doubles import ScriptedLLM
from autogpt.mcp import servers
from autogpt.tools.workspace import Workspace

ECHO_SERVER = str(Path(__file__).resolve().parents[1] / "fakes" / "mcp_echo_server.py")
AUTOGPT = [sys.executable, "-m", "autogpt"]


def env_for(tmp_path: Path, replies: list[str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "OPENAI_", "ANTHROPIC_"))}
    env |= {
        "AUTOGPT_DATA_DIR": str(tmp_path / "data"),
        "AUTOGPT_WORKSPACE": str(tmp_path / "ws"),
        "AUTOGPT_EMBEDDER": "hash",
        "AUTOGPT_PROVIDER": "scripted",
        "AUTOGPT_SCRIPT": json.dumps(replies or []),
    }
    return env


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AUTOGPT, "mcp", *args], capture_output=True, text=True, env=env_for(tmp_path), timeout=60, check=False
    )


def text_of(result: object) -> str:
    content = getattr(result, "content", [])
    return "\n".join(b.text for b in content if isinstance(b, TextContent))


def test_mcp_add_list_inspect_call_remove(tmp_path: Path) -> None:
    added = cli(tmp_path, "add", "echo", "-c", sys.executable, "-e", "GREETING=s3cret-value", "--", ECHO_SERVER)
    assert "added echo" in added.stdout
    assert added.returncode == 0, added.stderr
    listed = cli(tmp_path, "list")
    assert "echo  [stdio]" in listed.stdout
    assert "env: GREETING" in listed.stdout
    assert "s3cret-value" not in listed.stdout  # values stay in the file (mode 0600)
    assert (tmp_path / "data" / "mcp.json").stat().st_mode & 0o077 == 0
    inspected = cli(tmp_path, "inspect", "echo")
    assert inspected.returncode == 0, inspected.stderr
    assert "add(a, b): Add two integers." in inspected.stdout
    called = cli(tmp_path, "call", "echo", "add", '{"a": 2, "b": 3}')
    assert (called.returncode, called.stdout.strip()) == (0, "5")
    failed = cli(tmp_path, "call", "echo", "fail")
    assert failed.returncode == 1
    assert "this tool always fails" in failed.stdout
    bad = cli(tmp_path, "call", "echo", "add", "not json")
    assert bad.returncode == 2
    assert "not JSON" in bad.stderr
    assert cli(tmp_path, "remove", "echo").returncode == 0
    assert servers.load(tmp_path / "data") == {}


@pytest.mark.parametrize(
    ("args", "kw", "message"),
    [
        (("bad name", "x"), {}, "is not a server name"),
        (("s", "prog"), {"transport": "http"}, "needs a URL"),
        (("s", "http://127.0.0.1:1/mcp"), {"env": ["A=1"]}, "not started by us"),
        (("s", "prog"), {"headers": ["nocolon"]}, "is not 'Name: value'"),
        (("s", "prog"), {"env": ["=1"]}, "is not KEY=VALUE"),
    ],
)
def test_bad_server_specs_are_refused(args: tuple[str, str], kw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        servers.make_spec(*args, **kw)


async def test_mcp_tools_join_generic_gpts_registry_behind_approval(tmp_path: Path) -> None:
    data = tmp_path / "data"
    servers.add(data, servers.make_spec("echo", sys.executable, [ECHO_SERVER], env=["GREETING=s3cret-value"]))
    plan = {"summary": "use the echo server", "steps": ["add numbers"], "commands": [], "tools": []}
    calls = [
        {"tool": "mcp__echo__add", "args": {"a": 20, "b": 22}},
        {"tool": "mcp__echo__add", "args": {"a": "many"}},
        {"tool": "mcp__echo__echo", "args": {"text": "refused"}},
        {"tool": "mcp__echo__env", "args": {"name": "GREETING"}},
    ]
    # two of the calls fail, so that turn's "done" is not taken: asked again, the model stops
    stop = json.dumps({"calls": [], "done": True})
    llm = ScriptedLLM(
        [
            json.dumps(plan),
            json.dumps({"calls": calls, "done": True}),
            stop,
            json.dumps({"verdict": "done", "reasons": "ok"}),
        ]
    )
    hub = InMemoryHub()
    agent = GenericGPT(
        llm, hub.connect("generic"), workspace=Workspace(tmp_path / "ws"), settings=load_settings(data_dir=data)
    )
    asked: list[str] = []

    async def approver(question: str) -> bool:
        asked.append(question)
        return "Plan:" in question or "mcp__echo__add" in question or "mcp__echo__env" in question

    agent.approver = approver
    serving = asyncio.create_task(agent.serve())
    user = hub.connect("user", agent_id="user")
    result = await user.call(Address.role("generic"), Command("do", "add 20 and 22"))
    await agent.bus.close()
    await serving
    assert isinstance(result, Result)
    offered = llm.calls[0].prompt
    assert "mcp__echo__add" in offered
    assert "Add two integers" in offered
    evidence = llm.calls[2].messages[-1].content
    assert "[1] mcp__echo__add: 42" in evidence
    assert "[2] mcp__echo__add: ERROR: bad arguments for mcp__echo__add" in evidence
    assert "[3] mcp__echo__echo: ERROR: the user did not approve" in evidence
    assert "[4] mcp__echo__env: s3cret-value" in evidence  # -e reached the started server
    assert len(asked) == 5  # the plan, and each MCP call (none was in the plan)


async def test_an_mcp_server_that_will_not_start_is_left_out(tmp_path: Path) -> None:
    from autogpt.mcp.tools import open_mcp_tools

    data = tmp_path / "data"
    servers.add(data, servers.make_spec("broken", sys.executable, ["-c", "raise SystemExit(3)"]))
    said: list[str] = []

    async def say(message: str) -> None:
        said.append(message)

    async with contextlib.AsyncExitStack() as stack:
        assert await open_mcp_tools(stack, data, say) == []
    assert said
    assert said[0].startswith("MCP server broken left out")


async def _drive(client: Client, ws: Path) -> None:
    names = {t.name for t in (await client.list_tools()).tools}
    assert {"build", "ask", "read_report"} <= names
    answer = await client.call_tool("ask", {"agent": "gen", "prompt": "say hello"})
    assert not answer.is_error, text_of(answer)
    assert text_of(answer) == "Hello from the team."
    (ws / "REPORT.md").write_text("# Build report\nverdict: PASS\n")
    report = await client.call_tool("read_report", {})
    assert text_of(report) == "# Build report\nverdict: PASS\n"
    outside = await client.call_tool("read_report", {"path": "../secret.txt"})
    assert outside.is_error
    assert "'..' is not allowed" in text_of(outside)
    unknown = await client.call_tool("ask", {"agent": "nobody", "prompt": "x"})
    assert unknown.is_error


async def test_the_sdk_client_drives_mcp_serve_over_stdio(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "autogpt", "mcp", "serve"], env=env_for(tmp_path, ["Hello from the team."])
    )
    async with Client(params, mode="legacy") as client:
        await _drive(client, tmp_path / "ws")


@contextlib.asynccontextmanager
async def http_server(tmp_path: Path) -> AsyncIterator[str]:
    proc = await asyncio.create_subprocess_exec(
        *AUTOGPT, "mcp", "serve", "-t", "http", "--port", "0",
        env=env_for(tmp_path, ["Hello from the team."]), stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
        assert "autogpt MCP server on http://127.0.0.1:" in line, line
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)


async def test_sdk_client_and_ours_drive_mcp_serve_over_http_on_a_free_port(tmp_path: Path) -> None:
    from autogpt.mcp.client import call_tool, connect, result_text

    (tmp_path / "ws").mkdir()
    async with http_server(tmp_path) as url:
        async with Client(url, mode="legacy") as client:
            await _drive(client, tmp_path / "ws")
        spec = servers.make_spec("team", url, headers=["X-Trace: test"])  # our client, with a header
        async with connect(spec) as ours:
            assert result_text(await call_tool(ours, "read_report", {})).startswith("# Build report")


async def test_mcp_serve_http_accepts_connections_as_soon_as_it_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A client that connects the moment it reads the line is queued, not refused, even before
    uvicorn has started serving (its start is held back here)."""
    import socket

    import uvicorn

    from autogpt.mcp.serve import serve_http

    reached, held = asyncio.Event(), asyncio.Event()

    async def held_back(self: object, sockets: object = None) -> None:
        reached.set()
        await held.wait()

    monkeypatch.setattr(uvicorn.Server, "serve", held_back)
    monkeypatch.setenv("AUTOGPT_DATA_DIR", str(tmp_path / "data"))
    task = asyncio.create_task(serve_http({"workspace": str(tmp_path)}, "127.0.0.1", 0))
    try:
        await asyncio.wait_for(reached.wait(), 30)
        said = capsys.readouterr().err
        assert "MCP server on" in said, said
        port = int(said.rsplit(":", 1)[1].split("/", 1)[0])
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    finally:
        held.set()
        await task
