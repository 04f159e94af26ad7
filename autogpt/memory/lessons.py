"""Lessons: what failed in a task and what fixed it, in a line, kept for the role that did it.

Distilled by rule rather than by another model call: the first line of the error and the
first line of the result that worked are what a later prompt needs, and a rule costs no
tokens and cannot invent a cause.
"""

from __future__ import annotations

from autogpt.errors import AutoGPTError
from autogpt.logs import get_logger
from autogpt.memory.recall import AgentMemory

log = get_logger(__name__)


def _line(text: str, limit: int) -> str:
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return first[:limit] + ("..." if len(first) > limit else "")


def _evidence(error: str, limit: int) -> str:
    """The line of ``error`` that says what went wrong: its first evidence line (``- GET /x
    (expected ...): status 404``) when it lists some, else its first line. A verifier's first
    line is its summary ("server NOT verified: 3/5 ..."), which teaches a later prompt nothing."""
    listed = next((ln.strip()[2:] for ln in error.splitlines() if ln.strip().startswith("- ")), "")
    return _line(listed, limit) if listed else _line(error, limit)


def distill(task: str, error: str, fix: str | None) -> str:
    """One short lesson; ``fix`` is the output that worked, or None when nothing did."""
    what = _line(task, 100)
    failure = _evidence(error, 200) or "an unknown error"
    if fix is None:
        return f"When asked to {what}: it failed with '{failure}' and was not fixed; do it differently."
    return f"When asked to {what}: a first try failed with '{failure}'; what worked: {_line(fix, 160)}"


def learn(memory: AgentMemory | None, role: str, task: str, error: str, fix: str | None) -> str | None:
    """Keep the lesson for ``role``; a store that fails is logged, never fails the task."""
    if memory is None or not error.strip():
        return None
    text = distill(task, error, fix)
    try:
        memory.lesson(text, role=role)
    except AutoGPTError as exc:
        log.warning("lesson_not_kept", role=role, error=str(exc))
        return None
    return text
