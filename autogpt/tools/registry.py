"""The tools an agent may use, and the one place a call to them is checked.

A call names a tool and gives raw arguments (what a model wrote). :meth:`Registry.call`
refuses, in this order: a name the registry does not hold (:class:`UnknownToolError`),
a tool whose capability was not granted (:class:`CapabilityDeniedError`, code
``PERMISSION_DENIED``), arguments that do not validate (:class:`InvalidInputError`).
Only then does the tool run. :meth:`Registry.attempt` turns every refusal and failure
into a :class:`~autogpt.tools.tool.ToolOutput`, so a bad call is evidence for the model
and never ends its loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from autogpt.errors import AutoGPTError, ErrorCode, InvalidInputError, PermissionDeniedError
from autogpt.logs import get_logger
from autogpt.tools.tool import Tool, ToolContext, ToolOutput

log = get_logger(__name__)


class UnknownToolError(InvalidInputError):
    """The model named a tool this agent does not have."""


class CapabilityDeniedError(PermissionDeniedError):
    """The agent lacks the capability the tool needs."""

    code = ErrorCode.PERMISSION_DENIED


def explain(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(arguments)'}: {e['msg']}" for e in exc.errors()[:8])


class Registry:
    """Tools by name, and the capabilities granted to whoever calls them."""

    def __init__(self, tools: Iterable[Tool[Any]] = (), *, granted: Iterable[str] = ()) -> None:
        self._tools: dict[str, Tool[Any]] = {}
        self.granted = frozenset(granted)
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool[Any]) -> None:
        if tool.name in self._tools:
            raise InvalidInputError(f"two tools are named {tool.name!r}")
        self._tools[tool.name] = tool

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        return sorted(self._tools)

    def get(self, name: str) -> Tool[Any]:
        tool = self._tools.get(name)
        if tool is None:
            raise UnknownToolError(f"there is no tool {name!r}", hint=f"tools: {', '.join(self.names())}")
        return tool

    def usable(self) -> list[Tool[Any]]:
        """The tools whose capability is granted: what a model should be offered."""
        return [t for name, t in sorted(self._tools.items()) if t.capability in self.granted]

    def check(self, name: str, raw: Mapping[str, Any] | BaseModel | None) -> tuple[Tool[Any], BaseModel]:
        """The tool and its validated arguments, or the reason the call may not happen."""
        tool = self.get(name)
        if tool.capability not in self.granted:
            raise CapabilityDeniedError(
                f"tool {name!r} needs capability {tool.capability!r}, which this agent was not granted",
                hint=f"granted: {', '.join(sorted(self.granted)) or 'none'}",
            )
        if isinstance(raw, tool.Args):
            return tool, raw
        if raw is not None and not isinstance(raw, Mapping):
            raise InvalidInputError(f"arguments of {name!r} must be a JSON object, not {type(raw).__name__}")
        try:
            return tool, tool.Args.model_validate(dict(raw or {}))
        except ValidationError as exc:
            raise InvalidInputError(f"bad arguments for {name!r}: {explain(exc)}") from None

    async def call(self, name: str, raw: Mapping[str, Any] | BaseModel | None, ctx: ToolContext) -> ToolOutput:
        """Check, then run; refusals raise (see the module's docstring)."""
        tool, args = self.check(name, raw)
        log.debug("tool_call", tool=name, agent=ctx.agent)
        return await tool.run(args, ctx)

    async def attempt(self, name: str, raw: Any, ctx: ToolContext) -> ToolOutput:
        """Like :meth:`call`, but every refusal or failure is an error output, never an exception."""
        try:
            return await self.call(name, raw, ctx)
        except asyncio.CancelledError:
            raise
        except AutoGPTError as exc:
            return ToolOutput.error(str(exc), code=exc.code.name)
        except Exception as exc:  # a tool's bug is evidence too; the loop goes on
            log.exception("tool_crashed", tool=name)
            return ToolOutput.error(f"{name} failed: {type(exc).__name__}: {exc}", code=ErrorCode.INTERNAL.name)
