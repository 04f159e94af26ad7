"""Declared agents at run time: the base class generated modules extend, and loading one.

``autogpt build`` turns ``agent.yaml`` into a module whose class subclasses
:class:`DeclaredAgent`; ``autogpt run`` and ``autogpt test`` use that module when it is
there (the user may have extended it), else build the same class from the YAML directly.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any, ClassVar

from autogpt.agents.base import Agent, Context, action
from autogpt.custom.spec import SPEC_FILE, ActionSpec, AgentSpec, load_spec
from autogpt.errors import ConfigError, InvalidInputError
from autogpt.iac.envelope import Artifact, Command, Result
from autogpt.llm.base import Message, Options


def fill(template: str, command: Command) -> str:
    """The action's prompt with the user's text in it (only these two fields: prompts may hold braces)."""
    return template.replace("{input}", command.input.strip()).replace("{language}", command.language or "")


class DeclaredAgent(Agent):
    """An agent whose actions are prompts: system prompt + the action's prompt -> the answer."""

    system_prompt: ClassVar[str] = ""

    async def prompted(
        self,
        template: str,
        command: Command,
        ctx: Context,
        *,
        save: str | None = None,
        max_tokens: int | None = None,
    ) -> Result:
        """Ask the model with ``template`` filled in; stream the answer; optionally save it."""
        if not command.input.strip():
            raise InvalidInputError(f"{self.name} needs some input", hint=f"e.g. /{self.main} something")
        messages = [Message.system(self.system_prompt or self.persona), Message.user(fill(template, command))]
        completion = await self.think(messages, ctx, Options(max_tokens=max_tokens or self.reply_tokens))
        artifacts: tuple[Artifact, ...] = ()
        if save:
            if self.workspace is None:
                raise ConfigError(f"{self.name} has no workspace to save {save} in", hint="pass --workspace DIR")
            record = self.workspace.ensure().write_text(save, completion.text, agent=self.name)
            artifacts = (Artifact(record.path, "file", record.size, record.sha256),)
        return Result(output=completion.text, data={"finish_reason": completion.finish_reason}, artifacts=artifacts)


def _action_method(name: str, spec: ActionSpec) -> Any:
    async def run(self: DeclaredAgent, command: Command, ctx: Context) -> Result:
        return await self.prompted(spec.prompt, command, ctx, save=spec.save, max_tokens=spec.max_tokens)

    run.__name__ = name
    return action(name, help=spec.help)(run)


def declared_class(spec: AgentSpec) -> type[DeclaredAgent]:
    """The agent ``spec`` describes, as a class, without generating code."""
    namespace: dict[str, Any] = {
        "name": spec.name,
        "role": spec.role,
        "persona": spec.persona,
        "system_prompt": spec.system_prompt,
        "capabilities": frozenset(spec.capabilities),
        "main_action": spec.main,
        "__module__": __name__,
        "__doc__": spec.persona,
    }
    for name, action_spec in spec.actions.items():
        namespace[f"_declared_{name}"] = _action_method(name, action_spec)
    return type(spec.name, (DeclaredAgent,), namespace)


def _import_file(path: Path, class_name: str) -> type[Agent]:
    module_name = f"autogpt_custom_{path.stem}"
    loader = importlib.util.spec_from_file_location(module_name, path)
    if loader is None or loader.loader is None:
        raise ConfigError(f"cannot import {path}")
    module = importlib.util.module_from_spec(loader)
    sys.modules[module_name] = module
    try:
        loader.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise ConfigError(f"{path} failed to import: {type(exc).__name__}: {exc}") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Agent)):
        raise ConfigError(f"{path} has no Agent subclass {class_name}", hint="autogpt build --force regenerates it")
    return cls


def load_agent(folder: Path) -> tuple[AgentSpec, type[Agent]]:
    """The agent in ``folder``: its generated (and maybe extended) module, else the YAML alone."""
    folder = folder.parent if folder.name == SPEC_FILE else folder
    spec = load_spec(folder)
    module = folder / f"{spec.module_name}.py"
    if module.is_file():
        return spec, _import_file(module, spec.name)
    return spec, declared_class(spec)
