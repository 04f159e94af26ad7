"""What the team is doing right now, in memory: requests in flight and recently ended,
outcome counts and latencies. Fed by the ledger's events as they happen (nothing is read
back from SQLite), read by the metrics endpoint and the live view."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from orchgpt.switchboard import Switchboard

RECENT = 50
"""Ended requests the live view shows."""


@dataclass(slots=True)
class Request:
    requester: str
    request_id: str
    agent: str
    what: str
    state: str
    started: float  # wall clock
    ended: float | None = None
    error: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Activity:
    def __init__(self, board: Switchboard, *, observe: Callable[[float], None] | None = None) -> None:
        self.board = board
        self.observe = observe  # told each finished request's seconds (the latency histogram)
        self.open: dict[tuple[str, str], Request] = {}  # bounded by the router's pending limits
        self.recent: deque[Request] = deque(maxlen=RECENT)
        self.outcomes: Counter[str] = Counter()
        self.changed = asyncio.Event()
        self._rate = (time.monotonic(), 0, 0.0)  # when, envelope total then, rate

    def on_event(self, op: str, row: tuple[Any, ...]) -> None:
        """A ledger event (see :class:`~orchgpt.ledger.Ledger` for the rows)."""
        if op == "open":
            # Ledger.opened's row: requester, id, session, recipient, agent, what, state, error,
            # prompt and completion tokens, created (µs), ...
            requester, request_id, _, _, agent, what = row[:6]
            created_us = row[10]
            self.open[(requester, request_id)] = Request(requester, request_id, agent, what, "routed", created_us / 1e6)
            self.outcomes["routed"] += 1
        elif op == "accept":
            if (req := self.open.get((row[1], row[2]))) is not None:
                req.state = "accepted"
        elif op == "finish":
            state, error, prompt, completion, finished_us, requester, request_id = row
            req = self.open.pop((requester, request_id), None)
            if req is None:  # already ended: the ledger ignores it too
                return
            req.state, req.error, req.ended = state, error, finished_us / 1e6
            req.prompt_tokens, req.completion_tokens = prompt, completion
            self.outcomes[state] += 1
            self.recent.appendleft(req)
            if self.observe is not None:
                self.observe(max(req.ended - req.started, 0.0))
        elif op == "refuse":
            requester, request_id, _, recipient, what, error, created_us = row[:7]
            req = Request(requester, request_id, recipient, what, "refused", created_us / 1e6, created_us / 1e6, error)
            self.outcomes["refused"] += 1
            self.recent.appendleft(req)
        self.changed.set()

    def envelope_rate(self) -> float:
        """Envelopes per second since the previous call (at least a second apart)."""
        now, total = time.monotonic(), sum(self.board.envelopes)
        then, before, rate = self._rate
        if now - then >= 1.0:
            rate = (total - before) / (now - then)
            self._rate = (now, total, rate)
        return rate

    def snapshot(self) -> dict[str, Any]:
        """Everything the live view shows, as plain JSON-able data."""
        in_flight = Counter(req.agent for req in self.open.values())
        agents = [
            {
                "agent": c.agent_id,
                "role": c.role,
                "cert": c.peer.name,
                "since": c.since,
                "in_flight": in_flight[c.agent_id],
            }
            for c in sorted(self.board.connections.values(), key=lambda c: (c.role, c.agent_id))
        ]
        requests = sorted(self.open.values(), key=lambda r: r.started, reverse=True)[:RECENT] + list(self.recent)
        return {
            "agents": agents,
            "requests": [asdict(r) for r in requests],
            "envelopes": sum(self.board.envelopes),
            "rate": round(self.envelope_rate(), 1),
            "outcomes": dict(self.outcomes),
        }
