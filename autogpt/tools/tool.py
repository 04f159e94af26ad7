"""One small interface for everything an agent can do to the world.

A :class:`Tool` has a name, typed arguments (a pydantic model), the capability it needs
(``fs.read``, ``fs.write``, ``exec.run``, ``git.commit``, ``net.http``, ``mcp.call`` ...)
and one async method, :meth:`Tool.run`. What a tool returns, and what goes wrong in it,
is evidence for the model: :class:`ToolOutput` either way, never an exception that ends
the agent's loop. The checks that protect the world (known tool, valid arguments,
capability granted) live in :mod:`autogpt.tools.registry`, in one place, not in each tool.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from autogpt.tools.workspace import Workspace

A = TypeVar("A", bound=BaseModel)
MAX_EVIDENCE = 6000  # characters of a tool's output a model sees


@dataclass(frozen=True, slots=True)
class ToolOutput:
    text: str
    ok: bool = True
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def error(cls, text: str, **data: Any) -> ToolOutput:
        return cls(text, ok=False, data=data)

    def evidence(self, limit: int = MAX_EVIDENCE) -> str:
        """The text as the model sees it: bounded, with failures marked."""
        text = (
            self.text if len(self.text) <= limit else self.text[: limit // 2] + "\n[...]\n" + self.text[-limit // 2 :]
        )
        return text if self.ok else f"ERROR: {text}"


@dataclass
class ToolContext:
    """What a tool may touch: the workspace, and who is acting (for records and commits)."""

    workspace: Workspace
    agent: str = "agent"
    data_dir: Path | None = None
    command_seconds: float = 120.0
    allow_unconfined: bool = False
    extras: dict[str, Any] = field(default_factory=dict)


class Tool(ABC, Generic[A]):
    """Subclass with ``name``, ``description``, ``capability``, ``Args`` and :meth:`run`."""

    name: str
    description: str
    capability: str
    Args: type[A]

    @abstractmethod
    async def run(self, args: A, ctx: ToolContext) -> ToolOutput:
        """Do it. Expected failures are a :class:`ToolOutput` with ``ok=False``."""

    def describe(self) -> dict[str, Any]:
        """Name, purpose and argument schema, as a model is shown them."""
        schema = self.Args.model_json_schema()
        schema.pop("title", None)
        return {"name": self.name, "description": self.description, "args": schema}
