"""Lessons: a failed-then-fixed task leaves a line for its role, recalled into later prompts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from autogpt.agents.generic import GenericGPT
from autogpt.cli.runtime import Standalone
from autogpt.config import load_settings
from autogpt.iac.envelope import Address, Command, Task
from autogpt.llm.base import Message, Options
from autogpt.llm.doubles import FunctionLLM
from autogpt.memory.embedder import HashEmbedder
from autogpt.memory.lessons import added_lines, distill, distill_fix
from autogpt.memory.recall import AgentMemory
from autogpt.memory.store import MemoryStore


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


def test_a_repaired_draft_teaches_the_lines_its_fix_added() -> None:
    before = (
        'from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get("/add")\n'
        'def add(a: int, b: int):\n    return {"total": a + b}\n'
    )
    after = before.replace('return {"total": a + b}', '# the key the idea names\n    return {"sum": a + b}')
    evidence = 'server NOT verified: 0/1\n- GET /add?a=2&b=3 (expected 200 with {"sum": 5}): body is {"total": 5}\n'
    text = distill_fix("an API that adds two numbers", evidence, before, after, fixed=True)
    assert text == (
        "When asked to an API that adds two numbers: the first draft failed with "
        '\'GET /add?a=2&b=3 (expected 200 with {"sum": 5}): body is {"total": 5}\'; '
        'the fix that held added `return {"sum": a + b}`'
    )
    unfixed = distill_fix("an API that adds two numbers", evidence, before, after, fixed=False)
    assert unfixed.endswith("and no fix round repaired it.")
    assert "added" not in unfixed


def test_added_lines_skip_blanks_comments_brackets_and_imports_and_stop_at_the_limit() -> None:
    after = "a = 1\n\n# note\n}\nimport os\nconst x = require('y');\nb = 22\nc = 333\nd = 4444\n"
    assert added_lines("a = 1\n", after, limit=2) == ["b = 22", "c = 333"]
    assert added_lines("same\n", "same\n") == []


ADD = 'An API that adds two numbers: GET /add?a=2&b=3 returns {"sum": 5}.'
TODOS = 'A todo API: POST /todos with {"title": "milk"} adds a todo and returns it with an id.'
PROMPT = "Write app/main.py for this contract. Answer with the whole file. Routes: GET /things, POST /things."


def test_lessons_are_recalled_for_the_task_in_focus_and_not_for_other_tasks(tmp_path: Path) -> None:
    """Recalled by the prompt's tail, every API lesson looked alike, and a small model copied the
    routes of other ideas' lessons into its server. Lessons now answer to the task in focus."""
    memory = AgentMemory(MemoryStore(tmp_path / "m.db", HashEmbedder()), "backend")
    memory.lesson(distill_fix(ADD, "- GET /add?a=2&b=3 (expected 200): body is {}", "x", "return {'sum': a + b}", True))
    memory.lesson(distill_fix(TODOS, "- GET /todos (expected 2xx): status 500", "x", "todos.append(body)", True))
    memory.remember("the things API keeps its things in a list")  # a note: recalled by the prompt as before
    with memory.focused(ADD):
        block = memory.block(PROMPT + " " + TODOS, budget_tokens=2000)
    assert "lesson: When asked to An API that adds two numbers" in block
    assert "todo" not in block.lower()  # though the prompt itself speaks of todos
    assert "things API keeps its things" in block
    with memory.focused("Write a haiku about the sea"):
        assert "lesson:" not in memory.block(PROMPT, budget_tokens=2000)


async def test_an_agents_action_runs_with_its_task_in_focus(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", workspace=tmp_path / "ws", embedder="hash")
    llm = FunctionLLM(lambda messages, options: "ok")
    team = Standalone(settings, GenericGPT, llm)
    await team.start()
    try:
        agent = team.agent
        assert agent.memory is not None
        agent.memory.lesson(distill(ADD, "ValueError: a is not a number", "used float(a)"))
        agent.memory.lesson(distill(TODOS, "KeyError: title", "read body['title']"))
        assert team.user is not None
        await team.user.call(Address.agent("generic"), Command("run", ADD), timeout=None)
    finally:
        await team.stop()
    system = llm.calls[-1].messages[0].content
    assert "When asked to An API that adds two numbers" in system
    assert "When asked to A todo API" not in system
