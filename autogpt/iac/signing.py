"""Ed25519 signatures over an envelope's canonical bytes.

The agent that acts on a command checks its author's signature end to end, so even a
compromised router cannot forge an order; the router itself relies on mTLS identity.
"""

from __future__ import annotations

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
