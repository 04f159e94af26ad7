"""autogpt: a team of specialist LLM agents that turns an idea into working software.

The SDK surface is importable from here (``from autogpt import Agent, action``); names
load on first use, so importing the package stays cheap for the command line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_EXPORTS = {
    "Agent": "autogpt.agents.base",
    "Context": "autogpt.agents.base",
    "action": "autogpt.agents.base",
    "Address": "autogpt.iac.envelope",
    "Command": "autogpt.iac.envelope",
    "Result": "autogpt.iac.envelope",
    "Status": "autogpt.iac.envelope",
    "Task": "autogpt.iac.envelope",
    "Bus": "autogpt.iac.bus",
    "InMemoryHub": "autogpt.iac.memory",
    "LLM": "autogpt.llm.base",
    "Completion": "autogpt.llm.base",
    "Message": "autogpt.llm.base",
    "Options": "autogpt.llm.base",
    "FunctionLLM": "autogpt.llm.doubles",
    "ScriptedLLM": "autogpt.llm.doubles",
    "complete_structured": "autogpt.llm.structured",
    "make_llm": "autogpt.llm.factory",
    "Settings": "autogpt.config",
    "load_settings": "autogpt.config",
    "Workspace": "autogpt.tools.workspace",
    "Sandbox": "autogpt.tools.sandbox",
    "Standalone": "autogpt.cli.runtime",
}

__all__ = [
    "LLM",
    "Address",
    "Agent",
    "Bus",
    "Command",
    "Completion",
    "Context",
    "FunctionLLM",
    "InMemoryHub",
    "Message",
    "Options",
    "Result",
    "Sandbox",
    "ScriptedLLM",
    "Settings",
    "Standalone",
    "Status",
    "Task",
    "Workspace",
    "action",
    "complete_structured",
    "load_settings",
    "make_llm",
]

if TYPE_CHECKING:
    from autogpt.agents.base import Agent, Context, action
    from autogpt.cli.runtime import Standalone
    from autogpt.config import Settings, load_settings
    from autogpt.iac.bus import Bus
    from autogpt.iac.envelope import Address, Command, Result, Status, Task
    from autogpt.iac.memory import InMemoryHub
    from autogpt.llm.base import LLM, Completion, Message, Options
    from autogpt.llm.doubles import FunctionLLM, ScriptedLLM
    from autogpt.llm.factory import make_llm
    from autogpt.llm.structured import complete_structured
    from autogpt.tools.sandbox import Sandbox
    from autogpt.tools.workspace import Workspace


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'autogpt' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
