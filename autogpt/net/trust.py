"""Checking who really gave an order: Ed25519 signatures verified by the agent that acts.

Each peer announces its signing key when it registers; the router hands the keys out
(the ``agents`` listing) and the acting agent checks every command's signature against
its sender's key. The router cannot alter an order in transit or pass one off as another
peer's without the check failing. Known limit: the keys themselves come from the
router, so a compromised router could announce a key of its own for a peer that has not
been seen yet; binding keys into the client certificates would close that.
"""

from __future__ import annotations

from autogpt.errors import SignatureError
from autogpt.iac.bus import Bus
from autogpt.iac.envelope import Envelope
from autogpt.iac.signing import ReplayGuard, verify


class KeyBook:
    """Signing keys of the peers, fetched from the router on first need and cached."""

    def __init__(self, bus: Bus, guard: ReplayGuard | None = None) -> None:
        self.bus = bus
        self.guard = guard if guard is not None else ReplayGuard()
        self._keys: dict[str, bytes] = {}

    async def refresh(self) -> None:
        for agent in await self.bus.list_agents():
            key = bytes.fromhex(agent.get("public_key", ""))
            if key:
                self._keys[agent["agent_id"]] = key

    async def key_of(self, agent_id: str) -> bytes:
        if agent_id not in self._keys:
            await self.refresh()
        key = self._keys.get(agent_id)
        if key is None:
            raise SignatureError(f"{agent_id} announced no signing key; its orders cannot be checked")
        return key

    async def check(self, envelope: Envelope) -> None:
        """The author's signature, then freshness: a valid order is acted on once, and only
        within the window (see :class:`~autogpt.iac.signing.ReplayGuard`)."""
        try:
            verify(envelope, await self.key_of(envelope.sender))
        except SignatureError:
            # The peer may have reconnected under the same name with a new key: look again once.
            await self.refresh()
            verify(envelope, await self.key_of(envelope.sender))
        self.guard.check(envelope)
