"""Lessons: a failed-then-fixed task leaves a line for its role, recalled into later prompts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from autogpt.agents.generic import GenericGPT
from autogpt.cli.runtime import Standalone
from autogpt.config import load_settings
from autogpt.iac.envelope import Task
from autogpt.llm.base import Message, Options
from autogpt.llm.doubles import FunctionLLM
from autogpt.memory.lessons import distill


def test_distill_is_one_short_line() -> None:
    text = distill("write the parser\nwith details", "SyntaxError: bad indent\nTraceback...", "parser written\nmore")
    assert text == (
        "When asked to write the parser: a first try failed with 'SyntaxError: bad indent'; what worked: parser written"
    )
    assert "not fixed" in distill("x", "boom", None)


def test_a_lesson_keeps_what_went_wrong_not_the_verifiers_summary() -> None:
    error = (
        "FastAPI server NOT verified: 3/5 acceptance examples and 0/0 other routes answered as asked\n"
        "These requests did not get the answer the idea asks for:\n"
        '- GET /vowels/sky (expected 200 with {"vowels": 0}): body is {"vowels": 1}\n'
        "- GET /vowels/AEIOU (expected ...): ..."
    )
    text = distill("write the server", error, None)
    assert 'GET /vowels/sky (expected 200 with {"vowels": 0}): body is {"vowels": 1}' in text
    assert "NOT verified" not in text


async def test_a_generic_task_fixed_on_retry_becomes_a_recalled_lesson(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", workspace=tmp_path / "ws", embedder="hash")

    def reply(messages: Sequence[Message], options: Options) -> str:
        return "parsed dates with fromisoformat"

    llm = FunctionLLM(reply)
    team = Standalone(settings, GenericGPT, llm)
    await team.start()
    try:
        assert team.user is not None
        from autogpt.iac.envelope import Address

        task = Task("t1", "generic", "parse ISO dates in python", input={"previous_error": "ValueError: bad month"})
        await team.user.call(Address.agent("generic"), task, timeout=None)
        later = Task("t2", "generic", "parse ISO dates in the log reader")
        await team.user.call(Address.agent("generic"), later, timeout=None)
    finally:
        await team.stop()
    system = llm.calls[-1].messages[0].content
    assert "lesson: When asked to parse ISO dates in python: a first try failed with 'ValueError: bad month'" in system
