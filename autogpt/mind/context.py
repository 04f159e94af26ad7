"""Keeping a conversation inside a model's context window.

Policy: the system prompt and the newest user message always stay; older turns are
dropped oldest-first, whole user/assistant pairs at a time, until the estimate fits
``window - reserve`` (``reserve`` keeps room for the reply). Token counts are estimated
at four characters a token, which errs on the safe side for code and English.
"""

from __future__ import annotations

from collections.abc import Sequence

from autogpt.llm.base import Message

CHARS_PER_TOKEN = 4
TRUNCATION_MARK = "\n[... truncated to fit the context window ...]\n"


def estimate_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 4


def estimate_messages(messages: Sequence[Message]) -> int:
    return sum(estimate_tokens(m.content) for m in messages)


def fit(messages: Sequence[Message], window: int, reserve: int) -> list[Message]:
    """``messages`` trimmed to fit ``window - reserve`` tokens by the policy above."""
    budget = max(window - reserve, 0)
    system = [m for m in messages if m.role == "system"]
    turns = [m for m in messages if m.role != "system"]
    while len(turns) > 1 and estimate_messages(system + turns) > budget:
        drop = 2 if len(turns) > 2 and turns[0].role == "user" and turns[1].role == "assistant" else 1
        turns = turns[drop:]
    if turns and estimate_messages(system + turns) > budget:
        # Even the newest message alone is too long: keep its head and tail.
        last = turns[-1]
        overhead = estimate_messages([*system, Message(last.role, TRUNCATION_MARK)])
        room = max((budget - overhead) * CHARS_PER_TOKEN, 0)
        half = room // 2
        cut = last.content[:half] + TRUNCATION_MARK + (last.content[-half:] if half else "")
        turns[-1] = Message(last.role, cut)
    return system + turns


class Conversation:
    """One session's running history, trimmed to a window on every read."""

    def __init__(self, system: str, *, window: int, reserve: int) -> None:
        self.system = Message.system(system)
        self.window = window
        self.reserve = reserve
        self._turns: list[Message] = []

    def add(self, message: Message) -> None:
        self._turns.append(message)

    def messages(self, pending: Message | None = None) -> list[Message]:
        history = [self.system, *self._turns] + ([pending] if pending else [])
        return fit(history, self.window, self.reserve)

    def __len__(self) -> int:
        return len(self._turns)
