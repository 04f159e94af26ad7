"""The team's shared memory as one agent sees it: a store kept by orchgpt, reached over the Bus.

Each call is a Command request to the router (:mod:`orchgpt.shared_memory` answers it);
a refusal comes back as the typed error the router chose (``PermissionDeniedError`` when
the certificate does not grant ``memory.read`` / ``memory.write``, ``InvalidInputError``
for a bad namespace or an oversized text), so callers handle it like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autogpt.iac.bus import Bus
from autogpt.iac.envelope import ROUTER_ID, Address, Command
from autogpt.memory.store import Memory


class SharedMemoryClient:
    def __init__(self, bus: Bus, *, timeout: float = 30.0) -> None:
        self.bus = bus
        self.timeout = timeout

    async def _call(self, action: str, text: str, args: dict[str, Any]) -> dict[str, Any]:
        result = await self.bus.call(
            Address.agent(ROUTER_ID), Command(action, input=text, args=args), timeout=self.timeout
        )
        return result.data

    async def remember(self, text: str, namespace: str = "shared", kind: str = "note") -> int:
        """Keep ``text`` in ``namespace``; its id."""
        data = await self._call("memory.remember", text, {"namespace": namespace, "kind": kind})
        return int(data["id"])

    async def recall(self, query: str, namespaces: Sequence[str] = ("shared",), k: int = 5) -> list[Memory]:
        """The ``k`` memories of ``namespaces`` closest to ``query``, best first."""
        data = await self._call("memory.recall", query, {"namespaces": list(namespaces), "k": k})
        return [_memory(m) for m in data.get("memories", []) if isinstance(m, dict)]

    async def forget(self, ids: Sequence[int], namespace: str = "shared") -> int:
        """Drop memories by id within ``namespace``; how many were there."""
        data = await self._call("memory.forget", "", {"ids": list(ids), "namespace": namespace})
        return int(data["forgotten"])


def _memory(found: dict[str, Any]) -> Memory:
    meta = {"by": str(found.get("by", ""))}
    return Memory(int(found["id"]), str(found["namespace"]), str(found["kind"]), str(found["text"]), 0.0,
                  float(found["score"]), meta)  # fmt: skip
