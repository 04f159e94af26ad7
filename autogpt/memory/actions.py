"""``remember``, ``recall`` and ``forget``: every agent's actions on its long-term memory.

They are agent actions, not console tricks, so they work the same at a local console and
over orchgpt (``/gen remember ...`` from a ``--net`` console). ``remember`` takes an
optional scope word: ``/remember project the API is on port 8080``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from autogpt.errors import ConfigError, InvalidInputError
from autogpt.iac.envelope import Command, Result

if TYPE_CHECKING:
    from autogpt.agents.base import Context
    from autogpt.memory.recall import AgentMemory


ActionFn = Callable[[Any, Command, "Context"], Awaitable[Result]]


def _mark(name: str, help_text: str) -> Callable[[ActionFn], ActionFn]:
    """What :func:`autogpt.agents.base.action` does, without importing the agent runtime here."""

    def mark(fn: ActionFn) -> ActionFn:
        fn.__iac_action__ = (name, help_text, ())  # type: ignore[attr-defined]
        return fn

    return mark


class MemoryActions:
    memory: AgentMemory | None

    def _memory(self) -> AgentMemory:
        if self.memory is None:
            raise ConfigError("this agent has no long-term memory", hint="it is given one at a console or in a build")
        return self.memory

    async def _remember(self, command: Command, ctx: Context) -> Result:
        memory = self._memory()
        scope, _, rest = command.input.strip().partition(" ")
        if scope not in ("agent", "project", "shared"):
            scope, rest = "agent", command.input.strip()
        if not rest.strip():
            raise InvalidInputError("nothing to remember", hint="/remember [project|shared] TEXT")
        item = await asyncio.to_thread(memory.remember, rest, scope)  # type: ignore[arg-type]
        return Result(output=f"remembered #{item} in {memory.namespace(scope)}", data={"id": item})  # type: ignore[arg-type]

    async def _recall(self, command: Command, ctx: Context) -> Result:
        memory = self._memory()
        query = command.input.strip()
        if query:
            found = await asyncio.to_thread(memory.recall, query, 10)
        else:
            found = await asyncio.to_thread(memory.store.recent, memory.namespaces, 10)
        if not found:
            return Result(output="nothing remembered" + (" about that" if query else ""), data={"memories": []})
        lines = [f"#{m.id} [{m.namespace}{' ' + m.kind if m.kind != 'note' else ''}] {m.text}" for m in found]
        data = [{"id": m.id, "namespace": m.namespace, "kind": m.kind, "text": m.text, "score": m.score} for m in found]
        return Result(output="\n".join(lines), data={"memories": data})

    async def _forget(self, command: Command, ctx: Context) -> Result:
        gone = await asyncio.to_thread(self._memory().forget, command.input)
        if not gone:
            return Result(output="nothing matched closely enough; nothing was forgotten", data={"forgotten": []})
        return Result(
            output="forgot " + "; ".join(f"#{m.id} {m.text[:60]}" for m in gone),
            data={"forgotten": [m.id for m in gone]},
        )

    remember = _mark("remember", "keep a fact in long-term memory: /remember [project|shared] TEXT")(_remember)
    recall = _mark("recall", "what long-term memory holds about a subject (or the latest)")(_recall)
    forget = _mark("forget", "drop a memory: /forget ID, or words of it")(_forget)
