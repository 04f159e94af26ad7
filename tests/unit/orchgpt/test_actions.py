"""The router reads a command's action the way the agent will, and only the action."""

from __future__ import annotations

import pytest
from google.protobuf.message import DecodeError

from autogpt.iac._gen import iac_pb2 as pb
from orchgpt.actions import action_of


def _field(number: int, value: bytes) -> bytes:
    assert len(value) < 0x80
    return bytes((number << 3 | 2, len(value))) + value


@pytest.mark.parametrize(
    "data",
    [
        pb.Command(action="write", input="x" * 100_000, args_json='{"a": 1}').SerializeToString(),
        pb.Command(input="a plain prompt").SerializeToString(),
        _field(1, b"help") + _field(2, b"text") + _field(1, b"shred"),  # the last value wins
        _field(2, b"text") + _field(1, b"write"),  # in any order
    ],
)
def test_the_action_read_is_the_one_the_agent_decodes(data: bytes) -> None:
    assert action_of(data) == pb.Command.FromString(data).action


@pytest.mark.parametrize("data", [_field(1, b"\xff\xfe"), b"\x0a\x7f", b"\x0b"])
def test_bytes_that_are_no_command_have_no_action(data: bytes) -> None:
    with pytest.raises(DecodeError):
        pb.Command.FromString(data)
    assert action_of(data) is None
