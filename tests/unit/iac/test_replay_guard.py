"""Signed orders are acted on once, and only while fresh."""

from __future__ import annotations

import dataclasses

import pytest

from autogpt.errors import SignatureError
from autogpt.iac.envelope import Address, Command, Envelope, Kind
from autogpt.iac.signing import ReplayGuard

NOW = 1_800_000_000_000_000


def _order(id: str, at: int = NOW, sender: str = "alice") -> Envelope:
    env = Envelope.new(Address.agent("gen1"), Command("run"), kind=Kind.REQUEST, sender=sender)
    return dataclasses.replace(env, id=id, timestamp_us=at)


def test_fresh_orders_pass_once_and_stale_or_future_ones_never() -> None:
    guard = ReplayGuard(300)
    guard.check(_order("a"), NOW)
    guard.check(_order("a", sender="bob"), NOW)  # another sender's id space
    with pytest.raises(SignatureError, match="already received"):
        guard.check(_order("a"), NOW + 1)
    with pytest.raises(SignatureError, match="stale"):
        guard.check(_order("b", at=NOW - 301_000_000), NOW)
    with pytest.raises(SignatureError, match="future"):
        guard.check(_order("c", at=NOW + 301_000_000), NOW)
    guard.check(_order("d", at=NOW - 299_000_000), NOW)


def test_a_full_cache_raises_its_floor_so_forgotten_ids_stay_refused() -> None:
    guard = ReplayGuard(300, capacity=3)
    for i in range(5):
        guard.check(_order(f"o{i}", at=NOW + i), NOW + 10)
    with pytest.raises(SignatureError):
        guard.check(_order("o0", at=NOW), NOW + 10)  # forgotten, but under the floor
    with pytest.raises(SignatureError, match="already received"):
        guard.check(_order("o4", at=NOW + 4), NOW + 10)
