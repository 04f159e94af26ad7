"""``agent.yaml``: a custom agent declared in one file, checked with errors that point at a line.

A declared agent has a name, a role, a persona, the capabilities it may use, actions (each
a prompt around the user's input) and examples (an input and properties its answer must
have), which ``autogpt test`` runs. Problems are reported as ``agent.yaml:12: actions.write.
prompt: Field required``, every one at once, as a :class:`ConfigError`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from autogpt.errors import ConfigError

SPEC_FILE = "agent.yaml"
CAPABILITIES = frozenset(
    {"llm.chat", "fs.write", "fs.read", "exec.run", "net.http", "git.commit", "mail.read", "mail.send", "browser"}
)
RESERVED_ACTIONS = frozenset({"help", "status", "terminate"})
RESERVED_ROLES = frozenset(
    {"user", "generic", "manager", "architect", "backend", "frontend", "designer", "git", "mailer", "optimizer"}
    | {"gen", "man", "arch", "back", "front", "design", "mail", "opt"}
)
_ROLE = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
_ACTION = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
_CLASS = re.compile(r"^[A-Z][A-Za-z0-9]{1,40}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionSpec(_Strict):
    help: str = Field(min_length=1, description="one line for /help")
    prompt: str = Field(min_length=1, description="the request sent to the model; {input} and {language} are filled")
    save: str | None = Field(None, description="also write the answer to this workspace path (needs fs.write)")
    max_tokens: int | None = Field(None, gt=0, le=32_000)

    @field_validator("prompt")
    @classmethod
    def _uses_input(cls, value: str) -> str:
        if "{input}" not in value:
            raise ValueError("the prompt must contain {input}, where the user's text goes")
        return value


class Expect(_Strict):
    contains: list[str] = Field(default_factory=list, description="each must appear (any case)")
    not_contains: list[str] = Field(default_factory=list, description="none may appear (any case)")
    matches: str | None = Field(None, description="a regular expression the answer must match")
    max_lines: int | None = Field(None, gt=0)
    max_words: int | None = Field(None, gt=0)

    @field_validator("matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    def problems(self, answer: str) -> list[str]:
        """What is wrong with ``answer``; empty when it has every property."""
        low = answer.lower()
        found = [f"does not contain {w!r}" for w in self.contains if w.lower() not in low]
        found += [f"contains {w!r}" for w in self.not_contains if w.lower() in low]
        if self.matches is not None and not re.search(self.matches, answer, re.MULTILINE):
            found.append(f"does not match /{self.matches}/")
        lines = len(answer.strip().splitlines())
        if self.max_lines is not None and lines > self.max_lines:
            found.append(f"has {lines} lines (at most {self.max_lines})")
        words = len(answer.split())
        if self.max_words is not None and words > self.max_words:
            found.append(f"has {words} words (at most {self.max_words})")
        return found


class Example(_Strict):
    input: str = Field(min_length=1)
    action: str | None = Field(None, description="default: the main action")
    expect: Expect = Field(default_factory=lambda: Expect.model_validate({}))


class AgentSpec(_Strict):
    name: str = Field(description="class name, e.g. HaikuGPT")
    role: str = Field(description="what orchgpt and the consoles call it, e.g. haiku")
    persona: str = Field(min_length=1, description="one line on who the agent is")
    system_prompt: str = Field("", description="the system message (default: the persona)")
    provider: Literal["auto", "embedded", "openai", "anthropic", "gemini", "xai", "scripted"] | None = None
    model: str | None = None
    capabilities: list[str] = Field(default_factory=lambda: ["llm.chat"])
    main_action: str | None = Field(None, description="where plain prompts go (default: the first action)")
    actions: dict[str, ActionSpec] = Field(min_length=1)
    examples: list[Example] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _CLASS.match(value):
            raise ValueError("must be a class name: a capital letter, then letters or digits (e.g. HaikuGPT)")
        return value

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if not _ROLE.match(value):
            raise ValueError("must be 2-31 lower-case letters, digits or '-', starting with a letter (e.g. haiku)")
        if value in RESERVED_ROLES:
            raise ValueError(f"{value!r} is a built-in role; choose another")
        return value

    @field_validator("capabilities")
    @classmethod
    def _capabilities(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - CAPABILITIES)
        if unknown:
            raise ValueError(f"unknown {', '.join(unknown)}; known: {', '.join(sorted(CAPABILITIES))}")
        return value

    @field_validator("actions")
    @classmethod
    def _action_names(cls, value: dict[str, ActionSpec]) -> dict[str, ActionSpec]:
        for name in value:
            if not _ACTION.match(name):
                raise ValueError(f"action {name!r}: lower-case letters, digits and '_', starting with a letter")
            if name in RESERVED_ACTIONS:
                raise ValueError(f"action {name!r} is built into every agent; choose another name")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AgentSpec:
        if self.main_action is not None and self.main_action not in self.actions:
            raise ValueError(f"main_action {self.main_action!r} is not one of the actions")
        if any(a.save for a in self.actions.values()) and "fs.write" not in self.capabilities:
            raise ValueError("an action saves files, so capabilities must include fs.write")
        for i, example in enumerate(self.examples):
            if example.action is not None and example.action not in self.actions:
                raise ValueError(f"examples[{i}].action {example.action!r} is not one of the actions")
        return self

    @property
    def main(self) -> str:
        return self.main_action or next(iter(self.actions))

    @property
    def module_name(self) -> str:
        """The Python module ``autogpt build`` writes: ``haiku_agent``."""
        return f"{self.role.replace('-', '_')}_agent"


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The line (1-based) of the deepest node ``loc`` reaches in the YAML tree."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == str(part)), None)
            if match is None:
                break
            key = next(k for k, v in node.value if v is match)
            node, line = match, key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def parse_spec(text: str, where: str = SPEC_FILE) -> AgentSpec:
    """Validate agent YAML; every problem is named by file, line and field."""
    try:
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}{at}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: must be a mapping of fields (name, role, persona, actions, ...)")
    try:
        return AgentSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if isinstance(p, int | str))
            line = _line_of(tree, loc)
            field = ".".join(str(p) for p in loc) or "agent"
            message = error["msg"].removeprefix("Value error, ")
            at = f":{line}" if line else ""
            problems.append(f"{where}{at}: {field}: {message}")
        raise ConfigError("\n".join(problems), hint="see AGENTS.md, 'Declaring an agent'") from None


def load_spec(folder: Path) -> AgentSpec:
    path = folder / SPEC_FILE if folder.is_dir() else folder
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"no {SPEC_FILE} in {folder}", hint="autogpt new NAME creates one; or pass the agent's folder"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    return parse_spec(text, str(path))
