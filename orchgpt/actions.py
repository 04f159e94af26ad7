"""A request's command action, read without decoding the rest of the command.

The router checks the action against what the recipient offers (IAC.md §5.3) on every
request, and a command's ``input`` may be a megabyte of prompt: decoding the whole
``Command`` would validate all of it as UTF-8 only to throw it away. ``CommandAction``
declares field 1 alone, so the parser skips the others and reads that one by the same rules
as the agent's own decoder (the last value wins; invalid UTF-8 fails): the router and the
agent never read two different actions from the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError


def _action_class() -> Any:
    f = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="orchgpt_actions.proto", package="orchgpt", syntax="proto3")
    message = file.message_type.add(name="CommandAction")
    message.field.add(name="action", number=1, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("orchgpt.CommandAction"))


if TYPE_CHECKING:
    CommandAction = Any
else:
    CommandAction = _action_class()


def action_of(command: bytes) -> str | None:
    """The ``action`` of an encoded Command; None when the bytes are no Command (the agent
    then refuses the request as unreadable, so there is nothing to check)."""
    try:
        return str(CommandAction.FromString(command).action)
    except DecodeError:
        return None
