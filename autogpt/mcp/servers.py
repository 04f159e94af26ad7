"""The MCP servers a user added (``autogpt mcp add``), kept as JSON in the data folder.

The file may hold tokens (``-e KEY=V``, ``-H "Authorization: ..."``), so it is written
with mode 0600 and listings show the names of variables and headers, never their values.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from autogpt.config import config_error
from autogpt.errors import InvalidInputError

FILE_NAME = "mcp.json"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


class ServerSpec(BaseModel):
    name: str
    transport: Literal["stdio", "http"]
    command: str = Field(description="stdio: the program to start; http: the endpoint URL")
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)

    def describe(self) -> str:
        target = " ".join([self.command, *self.args])
        extra = [f"env: {', '.join(sorted(self.env))}"] if self.env else []
        extra += [f"headers: {', '.join(sorted(self.headers))}"] if self.headers else []
        return f"{self.name}  [{self.transport}]  {target}" + (f"  ({'; '.join(extra)})" if extra else "")


class ServerFile(BaseModel):
    servers: dict[str, ServerSpec] = Field(default_factory=dict)


def config_path(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def load(data_dir: Path) -> dict[str, ServerSpec]:
    path = config_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        return ServerFile.model_validate_json(text).servers
    except ValidationError as exc:
        raise config_error(exc, f"MCP servers in {path}") from None


def save(data_dir: Path, servers: dict[str, ServerSpec]) -> None:
    path = config_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(ServerFile(servers=servers).model_dump(), indent=2) + "\n")
    os.replace(tmp, path)


def make_spec(
    name: str, command: str, args: tuple[str, ...] | list[str] = (), *, transport: str | None = None,
    env: tuple[str, ...] | list[str] = (), headers: tuple[str, ...] | list[str] = (),
) -> ServerSpec:  # fmt: skip
    """A spec from what ``autogpt mcp add`` was given; every mistake is one clear error."""
    if not _NAME.fullmatch(name):
        raise InvalidInputError(f"{name!r} is not a server name", hint="letters, digits, '-' and '_', up to 40")
    is_url = command.startswith(("http://", "https://"))
    kind = transport or ("http" if is_url else "stdio")
    if kind not in ("stdio", "http"):
        raise InvalidInputError(f"unknown transport {kind!r}", hint="-t stdio or -t http")
    if kind == "http" and not is_url:
        raise InvalidInputError(f"an http server needs a URL, not {command!r}", hint="-c http://host:port/mcp")
    if kind == "http" and args:
        raise InvalidInputError("an http server takes no arguments after its URL")
    pairs: dict[str, str] = {}
    for item in env:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise InvalidInputError(f"-e {item!r} is not KEY=VALUE")
        pairs[key.strip()] = value
    named: dict[str, str] = {}
    for item in headers:
        key, colon, value = item.partition(":")
        if not colon or not key.strip():
            raise InvalidInputError(f"-H {item!r} is not 'Name: value'")
        named[key.strip()] = value.strip()
    if kind == "http" and pairs:
        raise InvalidInputError("-e sets a started server's environment; an http server is not started by us")
    if kind == "stdio" and named:
        raise InvalidInputError("-H sets HTTP headers; a stdio server has none")
    return ServerSpec(name=name, transport=kind, command=command, args=list(args), env=pairs, headers=named)  # type: ignore[arg-type]


def add(data_dir: Path, spec: ServerSpec) -> bool:
    """Add or replace; True when it replaced one of the same name."""
    servers = load(data_dir)
    replaced = spec.name in servers
    servers[spec.name] = spec
    save(data_dir, servers)
    return replaced


def remove(data_dir: Path, name: str) -> None:
    servers = load(data_dir)
    if name not in servers:
        raise InvalidInputError(f"no MCP server {name!r}", hint=f"known: {', '.join(sorted(servers)) or 'none'}")
    del servers[name]
    with contextlib.suppress(FileNotFoundError):
        save(data_dir, servers)


def get(data_dir: Path, name: str) -> ServerSpec:
    servers = load(data_dir)
    if name not in servers:
        raise InvalidInputError(
            f"no MCP server {name!r}",
            hint=f"add it with autogpt mcp add; known: {', '.join(sorted(servers)) or 'none'}",
        )
    return servers[name]
