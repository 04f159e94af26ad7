"""Ed25519 signatures over an envelope's canonical bytes.

The agent that acts on a command checks its author's signature end to end, so even a
compromised router cannot forge an order; the router itself relies on mTLS identity.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import replace

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from autogpt.errors import SignatureError
from autogpt.iac.codec import canonical_bytes, decode
from autogpt.iac.envelope import Envelope


class Signer:
    """Holds one Ed25519 key and signs envelopes with it."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public_key = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> Signer:
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    def sign(self, env: Envelope) -> Envelope:
        fresh = replace(env, wire=b"")  # sign what the envelope is now, never stale received bytes
        return replace(fresh, signature=self._key.sign(canonical_bytes(fresh)))


def verify(env: Envelope, public_key: bytes) -> None:
    """Raise :class:`SignatureError` unless ``env`` was signed by ``public_key``."""
    if not env.signature:
        raise SignatureError(f"envelope {env.id} is not signed")
    try:
        key = Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        raise SignatureError("the sender's public key is not a valid Ed25519 key") from None
    if env.wire:
        # The received bytes are what was signed; they must still describe this envelope.
        again = decode(env.wire)
        if replace(again, sender=env.sender, signature=env.signature) != env:
            raise SignatureError(f"envelope {env.id} was changed after it was received")
    try:
        key.verify(env.signature, canonical_bytes(env))
    except InvalidSignature:
        raise SignatureError(f"envelope {env.id} has a bad signature (altered or forged)") from None


class ReplayGuard:
    """Refuses signed orders that are stale, dated in the future, or seen before.

    The signature covers the envelope's ``id`` and ``timestamp_us``, so neither can be
    changed by whoever replays an order. An order is fresh when its time is within
    ``window`` seconds of ours; its id is remembered for as long as that holds. When more
    than ``capacity`` ids are remembered the oldest are forgotten and the time floor
    rises with them, so a forgotten id can never pass again.
    """

    def __init__(self, window: float = 300.0, *, capacity: int = 100_000) -> None:
        self.window_us = int(window * 1e6)
        self.capacity = capacity
        self._seen: set[tuple[str, str]] = set()
        self._expiry: list[tuple[int, str, str]] = []  # (timestamp_us, sender, id), oldest first
        self._floor_us = 0

    def check(self, env: Envelope, now_us: int | None = None) -> None:
        now = time.time_ns() // 1000 if now_us is None else now_us
        age = now - env.timestamp_us
        if age > self.window_us or env.timestamp_us <= self._floor_us:
            raise SignatureError(
                f"order {env.id} is stale: dated {age / 1e6:.0f}s ago (window {self.window_us / 1e6:g}s)"
            )
        if -age > self.window_us:
            raise SignatureError(f"order {env.id} is dated {-age / 1e6:.0f}s in the future")
        while self._expiry and self._expiry[0][0] < now - self.window_us:
            _, sender, order = heapq.heappop(self._expiry)
            self._seen.discard((sender, order))
        key = (env.sender, env.id)
        if key in self._seen:
            raise SignatureError(f"order {env.id} from {env.sender} was already received (a replay)")
        self._seen.add(key)
        heapq.heappush(self._expiry, (env.timestamp_us, env.sender, env.id))
        while len(self._expiry) > self.capacity:
            stamp, sender, order = heapq.heappop(self._expiry)
            self._seen.discard((sender, order))
            self._floor_us = max(self._floor_us, stamp)
