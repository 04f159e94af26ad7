"""fit(): the context-window policy, and Conversation's trimmed view of its history."""

from __future__ import annotations

import pytest

from autogpt.llm.base import Message
from autogpt.mind.context import CHARS_PER_TOKEN, Conversation, estimate_messages, estimate_tokens, fit

MARKER = "[... truncated to fit the context window ...]"
SYSTEM = Message.system("You are a careful engineer.")


def turn(role: str, n: int, size: int = 40) -> Message:
    """A message whose content names it and has exactly ``size`` characters."""
    label = f"{role}{n}:"
    return Message(role, label + "." * (size - len(label)))  # type: ignore[arg-type]


def history(pairs: int, size: int = 40) -> list[Message]:
    """System, ``pairs`` user/assistant pairs, then the newest user message."""
    out = [SYSTEM]
    for i in range(pairs):
        out += [turn("user", i, size), turn("assistant", i, size)]
    out.append(turn("user", pairs, size))
    return out


def test_estimates_follow_the_documented_rate() -> None:
    assert estimate_tokens("") == 4
    assert estimate_tokens("x" * 40) == 40 // CHARS_PER_TOKEN + 4
    assert estimate_messages([Message.user("x" * 8), Message.assistant("y" * 12)]) == (2 + 4) + (3 + 4)


def test_everything_is_kept_when_it_fits() -> None:
    messages = history(3)
    assert fit(messages, window=10_000, reserve=500) == messages


def test_keeps_system_and_newest_when_budget_is_tight() -> None:
    messages = history(5)
    out = fit(messages, window=estimate_messages([SYSTEM, messages[-1]]) + 10, reserve=10)
    assert out == [SYSTEM, messages[-1]]


def test_drops_oldest_pairs_first() -> None:
    messages = history(4)  # each message estimates to 14 tokens
    per_message = estimate_tokens(messages[1].content)
    budget = estimate_tokens(SYSTEM.content) + 5 * per_message  # room for 2 pairs + the newest, not 3 pairs
    out = fit(messages, window=budget + 100, reserve=100)

    assert out[0] == SYSTEM
    assert out == [SYSTEM, *messages[-5:]]
    assert [m.content.split(":")[0] for m in out[1:]] == ["user2", "assistant2", "user3", "assistant3", "user4"]
    assert estimate_messages(out) <= budget


@pytest.mark.parametrize("budget_slack", [0, 1, 5, 13, 14, 27, 28, 29])
def test_turns_go_in_whole_pairs_and_result_fits(budget_slack: int) -> None:
    messages = history(6)
    floor = estimate_messages([SYSTEM, messages[-1]])
    budget = floor + budget_slack
    out = fit(messages, window=budget, reserve=0)

    assert out[0] == SYSTEM
    assert out[-1] == messages[-1]
    assert estimate_messages(out) <= budget
    kept = out[1:]
    # What was kept is a suffix of the history that starts with a user message ...
    assert kept == messages[len(messages) - len(kept) :]
    assert kept[0].role == "user"
    # ... and the next-older pair would not have fitted (it is the most we could keep).
    if len(kept) < len(messages) - 1:
        bigger = messages[len(messages) - len(kept) - 2 :]
        assert estimate_messages([SYSTEM, *bigger]) > budget


def test_multiple_system_messages_all_stay() -> None:
    second = Message.system("Reply in JSON.")
    messages = [SYSTEM, second, *history(5)[1:]]
    out = fit(messages, window=estimate_messages([SYSTEM, second, messages[-1]]), reserve=0)
    assert out == [SYSTEM, second, messages[-1]]


def test_over_long_single_message_is_truncated_head_and_tail() -> None:
    body = "HEAD" + "m" * 20_000 + "TAIL"
    out = fit([SYSTEM, Message.user(body)], window=200, reserve=50)

    assert out[0] == SYSTEM
    assert len(out) == 2
    cut = out[1]
    assert cut.role == "user"
    assert MARKER in cut.content
    assert cut.content.startswith("HEADmmm")
    assert cut.content.endswith("mmmTAIL")
    assert len(cut.content) < len(body) // 10
    head, _, tail = cut.content.partition(MARKER)
    assert abs(len(head) - len(tail)) <= 2  # head and tail get equal shares


def test_old_turns_are_dropped_before_the_newest_is_truncated() -> None:
    messages = [*history(3)[:-1], Message.user("Q" * 8_000)]
    out = fit(messages, window=400, reserve=100)
    assert [m.role for m in out] == ["system", "user"]
    assert MARKER in out[1].content


def test_truncated_result_still_fits_the_budget() -> None:
    window, reserve = 200, 50
    out = fit([SYSTEM, Message.user("z" * 20_000)], window=window, reserve=reserve)
    assert MARKER in out[1].content
    assert estimate_messages(out) <= window - reserve


def test_conversation_trims_its_view_but_keeps_every_turn() -> None:
    conv = Conversation("You are terse.", window=120, reserve=20)
    for i in range(10):
        conv.add(turn("user", i, 60))
        conv.add(turn("assistant", i, 60))
    assert len(conv) == 20

    pending = Message.user("what next?")
    view = conv.messages(pending)
    assert view[0] == Message.system("You are terse.")
    assert view[-1] == pending
    assert estimate_messages(view) <= 120 - 20
    assert len(view) < 22
    assert len(conv) == 20  # reading never forgets stored turns

    roomy = Conversation("You are terse.", window=100_000, reserve=20)
    for i in range(10):
        roomy.add(turn("user", i, 60))
        roomy.add(turn("assistant", i, 60))
    full = roomy.messages()
    assert len(full) == 21
    assert full[1] == turn("user", 0, 60)
    assert full[-1] == turn("assistant", 9, 60)


def test_conversation_without_pending_ends_with_newest_turn() -> None:
    conv = Conversation("sys", window=60, reserve=0)
    for i in range(6):
        conv.add(turn("user", i))
        conv.add(turn("assistant", i))
    conv.add(turn("user", 6))
    view = conv.messages()
    assert view[0].role == "system"
    assert view[-1] == turn("user", 6)
    assert estimate_messages(view) <= 60
    assert len(conv) == 13
