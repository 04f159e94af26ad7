"""What a Register may hold, how the agent list is paged, and the outbound byte bound."""

from __future__ import annotations

import pytest

from autogpt.cli.printable import printable
from autogpt.errors import ErrorCode
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.router import AgentRecord
from orchgpt.admission import AdmissionError, check_register, page
from orchgpt.connection import Connection, Peer


def _register(**fields: object) -> pb.Register:
    return pb.Register(protocol_version=pb.PROTOCOL_VERSION_1, role="user", **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fields",
    [
        {"capabilities": [f"c{i}" for i in range(65)]},
        {"capabilities": ["x" * 65]},
        {"capabilities": [""]},
        {"topics": ["a b"]},
        {"topics": ["t" * 129]},
        {"public_key": b"k" * 31},
        {"name": "n" * 129},
        {"actions": [f"a{i}" for i in range(257)]},
        {"actions": ["a" * 65]},
        {"actions": ["two words"]},
        {"actions": ["run\x1b[2J"]},
    ],
)
def test_oversized_register_fields_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(AdmissionError) as caught:
        check_register("alice", frozenset({"user"}), _register(**fields))
    assert caught.value.code == ErrorCode.INVALID_ENVELOPE


def test_a_register_at_the_limits_is_kept() -> None:
    role, record = check_register(
        "alice", frozenset({"user"}), _register(capabilities=["c" * 64] * 64, public_key=b"k" * 32, name="A")
    )
    assert (role, record.name, len(record.public_key)) == ("user", "A", 32)


def test_actions_are_kept_when_listed_and_unchecked_when_not() -> None:
    _, listed = check_register(
        "alice", frozenset({"user"}), _register(actions=[f"{i:03d}" + "a" * 61 for i in range(256)])
    )
    assert listed.actions is not None
    assert len(listed.actions) == 256
    _, silent = check_register("alice", frozenset({"user"}), _register())
    assert silent.actions is None
    assert silent.offers("anything")


def test_pages_stop_at_their_length_and_their_bytes() -> None:
    records = [AgentRecord(f"a{i}", "user", frozenset({f"{j:02d}" + "c" * 62 for j in range(64)})) for i in range(10)]
    first, more = page(records, 0, 4)
    assert ([r.agent_id for r in first], more) == (["a0", "a1", "a2", "a3"], 4)
    small, more = page(records, 4, 100, max_bytes=10_000)
    assert (len(small), more) == (2, 6)
    rest, more = page(records, 8, 100)
    assert ([r.agent_id for r in rest], more) == (["a8", "a9"], None)


async def test_the_outbound_queue_is_bounded_in_bytes() -> None:
    conn = Connection("a", Peer("a", frozenset()), "user", queue_size=100, queue_bytes=1000)
    big = pb.Envelope(id="x", result=pb.Result(output="y" * 600))
    assert conn.offer(big)
    assert not conn.offer(big)
    assert conn.full_since is not None
    assert conn.queued[1] <= 1000
    frames = conn.frames()
    assert len(pb.Frame.FromString(await anext(frames)).envelopes) == 1
    assert conn.queued == (0, 0)
    assert conn.full_since is None


def test_control_characters_are_shown_not_sent() -> None:
    assert printable("ok\x1b[2J\x07\x9b\u202e\tend") == "ok\\x1b[2J\\x07\\x9b\\u202e end"
    assert printable("a\nb", newlines=False) == "a\\x0ab"
    assert printable("ünïcode ✓") == "ünïcode ✓"


def test_a_register_may_claim_only_the_capabilities_granted() -> None:
    granted = frozenset({"llm.chat", "fs.write"})
    _, record = check_register("a", frozenset({"user"}), _register(capabilities=["llm.chat"]), granted)
    assert record.capabilities == {"llm.chat"}
    with pytest.raises(AdmissionError) as caught:
        check_register("a", frozenset({"user"}), _register(capabilities=["llm.chat", "exec.run"]), granted)
    assert caught.value.code == ErrorCode.PERMISSION_DENIED
    assert "exec.run" in str(caught.value)
    assert "fs.write, llm.chat" in str(caught.value)
    many = [f"c{i}" for i in range(20)]
    with pytest.raises(AdmissionError, match="and 15 more"):
        check_register("a", frozenset({"user"}), _register(capabilities=many), frozenset())
    # the size checks come first: an oversized claim is an invalid envelope, not a denial
    with pytest.raises(AdmissionError) as caught:
        check_register("a", frozenset({"user"}), _register(capabilities=["x" * 65]), frozenset())
    assert caught.value.code == ErrorCode.INVALID_ENVELOPE
