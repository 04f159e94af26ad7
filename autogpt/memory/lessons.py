"""Lessons: what failed in a task and what fixed it, in a line, kept for the role that did it.

Distilled by rule rather than by another model call: the first line of the error and the
first line of the result that worked are what a later prompt needs, and a rule costs no
tokens and cannot invent a cause. For code that a fix round repaired, "what worked" is the
lines the fix added, not the summary of the result.
"""

from __future__ import annotations

import difflib

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
    return _keep(memory, role, distill(task, error, fix))


def _keep(memory: AgentMemory, role: str, text: str) -> str | None:
    try:
        memory.lesson(text, role=role)
    except AutoGPTError as exc:
        log.warning("lesson_not_kept", role=role, error=str(exc))
        return None
    return text


def added_lines(before: str, after: str, limit: int = 3) -> list[str]:
    """The first ``limit`` lines ``after`` adds to ``before`` that say something (no blank
    lines, comments, lone brackets or imports)."""
    added = []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0):
        if not line.startswith("+") or line.startswith("+++"):
            continue
        text = line[1:].strip()
        if len(text) < 4 or text.startswith(("#", "//", "import ", "from ")) or "require(" in text:
            continue
        added.append(text[:120])
        if len(added) == limit:
            break
    return added


def distill_fix(task: str, evidence: str, before: str, after: str, fixed: bool) -> str:
    """The lesson of a write-check-fix loop: what the first draft got wrong and, when a fix
    round repaired it, the lines that did."""
    what = _line(task, 100)
    failure = _evidence(evidence, 200) or "an unknown error"
    if not fixed:
        return f"When asked to {what}: the first draft failed with '{failure}' and no fix round repaired it."
    lines = added_lines(before, after)
    how = " | ".join(f"`{ln}`" for ln in lines) if lines else "a rewrite of the draft"
    return f"When asked to {what}: the first draft failed with '{failure}'; the fix that held added {how}"


def learn_fix(
    memory: AgentMemory | None, role: str, task: str, evidence: str, before: str, after: str, fixed: bool
) -> str | None:
    """Keep the lesson of a repair for ``role`` (nothing when the first draft passed)."""
    if memory is None or not evidence.strip():
        return None
    return _keep(memory, role, distill_fix(task, evidence, before, after, fixed))
