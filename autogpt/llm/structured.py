"""Structured output: a reply constrained to, and validated against, a pydantic model.

The JSON schema goes to the provider (llama.cpp turns it into a grammar; OpenAI uses
``response_format``; Anthropic a forced tool). Whatever comes back is still validated
here, because remote endpoints may ignore the constraint. A reply that fails gets a
bounded number of repair rounds, each showing the model its own reply and the exact
validation errors; then :class:`StructuredOutputError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from autogpt.errors import StructuredOutputError
from autogpt.llm.base import DEFAULT_OPTIONS, LLM, Completion, Message, Options, Usage

M = TypeVar("M", bound=BaseModel)

_DECODER = json.JSONDecoder()
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Structured(Generic[M]):
    value: M
    completion: Completion
    attempts: int
    usage: Usage


def extract_json(text: str) -> str:
    """The JSON value in ``text``: bare, fenced in markdown, or with prose before or after."""
    stripped = text.strip()
    fenced = _FENCE.search(stripped)
    if fenced and not stripped.startswith(("{", "[")):
        stripped = fenced.group(1).strip()
    for i, ch in enumerate(stripped):
        if ch in "{[":
            try:
                _, end = _DECODER.raw_decode(stripped, i)
            except ValueError:
                continue
            return stripped[i:end]
    return stripped


def _explain(exc: ValidationError | json.JSONDecodeError | ValueError) -> str:
    if isinstance(exc, ValidationError):
        lines = [f"- {'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()[:8]]
        return "\n".join(lines)
    return f"- not valid JSON: {exc}"


async def complete_structured(
    llm: LLM,
    messages: Sequence[Message],
    output: type[M],
    *,
    options: Options = DEFAULT_OPTIONS,
    repairs: int = 2,
    guide: dict[str, Any] | None = None,
) -> Structured[M]:
    """Ask ``llm`` for a reply that validates as ``output``; repair up to ``repairs`` times.

    ``guide`` is the schema the provider is given instead of ``output``'s own, when it can say
    more than ``output`` checks (which tools exist, each one's arguments): a grammar then keeps
    a small model to it, while a reply outside it still validates and is judged by the caller."""
    schema = guide or output.model_json_schema()
    opts = replace(options, json_schema=schema, schema_name=output.__name__)
    history = list(messages)
    usage = Usage()
    last_text = ""
    problem = ""
    for attempt in range(1, repairs + 2):
        completion = await llm.complete(history, opts)
        usage += completion.usage
        last_text = completion.text
        try:
            value = output.model_validate_json(extract_json(last_text))
        except (ValidationError, ValueError) as exc:
            problem = _explain(exc)
            history += [
                Message.assistant(last_text),
                Message.user(
                    "That reply does not match the required JSON schema:\n"
                    f"{problem}\n"
                    "Answer again with only one JSON object that matches this schema, no prose:\n"
                    f"{json.dumps(schema, separators=(',', ':'))}"
                ),
            ]
            continue
        return Structured(value=value, completion=completion, attempts=attempt, usage=usage)
    raise StructuredOutputError(
        f"{llm.provider}:{llm.model} did not produce a valid {output.__name__} after {repairs + 1} attempts",
        last_reply=last_text,
        hint=problem.replace("\n", " ")[:300],
    )
