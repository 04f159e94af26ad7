"""The LLM seam: one async interface, providers behind it, doubles for tests."""

from autogpt.llm.base import LLM, Completion, Message, Options, StreamItem, Usage
from autogpt.llm.doubles import FunctionLLM, ScriptedLLM
from autogpt.llm.structured import Structured, complete_structured
from autogpt.llm.usage import CallRecord, MeteredLLM, UsageMeter

__all__ = [
    "LLM",
    "CallRecord",
    "Completion",
    "FunctionLLM",
    "Message",
    "MeteredLLM",
    "Options",
    "ScriptedLLM",
    "StreamItem",
    "Structured",
    "Usage",
    "UsageMeter",
    "complete_structured",
]
