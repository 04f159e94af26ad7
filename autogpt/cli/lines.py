"""Console command lines: ``/agent action input [| language]`` and friends.

Quoted input keeps its spaces and may contain ``|``; only an unquoted ``|`` starts the
language. One tokenizer serves the single-agent and the networked console.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from autogpt.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class Line:
    words: tuple[str, ...]  # the leading words (agent and/or action), lower-cased
    input: str
    language: str


def tokenize(text: str, *, leading: int) -> Line:
    """Split ``text`` (without its '/') into ``leading`` words, the input, and a language."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars="|")
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError as exc:
        raise InvalidInputError(f"malformed line: {exc}", hint='close your quotes: /gen run "text"') from None
    language = ""
    if "|" in tokens:
        cut = len(tokens) - 1 - tokens[::-1].index("|")
        after = tokens[cut + 1 :]
        if len(after) != 1:
            raise InvalidInputError("exactly one language may follow '|'", hint="e.g. | python")
        language = after[0].lower()
        tokens = tokens[:cut]
    if any(t == "|" for t in tokens):
        raise InvalidInputError("only one '|' may appear outside quotes")
    words = tuple(t.lower() for t in tokens[:leading])
    return Line(words, " ".join(tokens[leading:]), language)
